"""The LLM servers' profiles (djl-lmi, tgi, tei) on real files: safetensors shards written
by the safetensors reference, an index as save_pretrained writes it, LMI's
serving.properties; and the profile each is detected as, with its reason."""

from __future__ import annotations

import json

import pytest

from conftest import build_archive, generate_weights, run_smpack, write_files
from sdk_oracles import sdk_oracle

numpy = pytest.importorskip("numpy")
safetensors_numpy = pytest.importorskip("safetensors.numpy")


def sharded_model(root, index_map=None):
    """A two-shard Llama-style layout; `index_map` replaces the index's weight_map."""
    write_files(root, {"config.json": '{"architectures": ["LlamaForCausalLM"]}\n',
                       "tokenizer.json": "{}\n", "tokenizer_config.json": "{}\n"})
    shards = {"model-00001-of-00002.safetensors": ["embed.weight", "layer.0.weight"],
              "model-00002-of-00002.safetensors": ["lm_head.weight"]}
    for shard, tensors in shards.items():
        safetensors_numpy.save_file({t: numpy.zeros((2, 2), dtype=numpy.float16) for t in tensors},
                                    str(root / shard))
    weight_map = index_map or {t: shard for shard, tensors in shards.items() for t in tensors}
    (root / "model.safetensors.index.json").write_text(
        json.dumps({"metadata": {"total_size": 24}, "weight_map": weight_map}))
    return root


def lint_report(path, *args):
    result = run_smpack("lint", path, "--json", *args)
    assert result.returncode in (0, 1), result.stderr
    return json.loads(result.stdout)["reports"][0]


def rules(report):
    return [f["rule"] for f in report["findings"]]


def test_a_sound_sharded_model_is_clean_for_every_server(tmp_path):
    model = sharded_model(tmp_path / "m")
    archive = build_archive(model, tmp_path / "m.tar.gz")
    for profile in ("huggingface", "djl-lmi", "tgi", "tei"):
        report = lint_report(archive, "--profile", profile, "--env", "HF_TASK=text-generation")
        assert "hf-shard-index-invalid" not in rules(report), (profile, report["findings"])
        assert "llm-config-missing" not in rules(report)


def test_an_index_that_names_a_missing_shard_or_tensor_fails_in_the_archive(tmp_path):
    model = sharded_model(tmp_path / "m", index_map={
        "embed.weight": "model-00001-of-00002.safetensors",
        "layer.1.weight": "model-00001-of-00002.safetensors",   # no such tensor there
        "lm_head.weight": "model-00003-of-00003.safetensors"})  # no such shard
    archive = build_archive(model, tmp_path / "m.tar.gz", "--no-lint")
    tgi = lint_report(archive, "--env", "MAX_TOTAL_TOKENS=4096")
    assert tgi["profile"] == "tgi" and "MAX_TOTAL_TOKENS" in tgi["profile_reason"]
    # TGI routes tensors by the shards' own headers: for it the index is a warning.
    assert {f["severity"] for f in tgi["findings"] if f["rule"] == "hf-shard-index-invalid"} \
        == {"warning"}
    report = lint_report(archive, "--env", "OPTION_ROLLING_BATCH=vllm")
    assert report["profile"] == "djl-lmi"
    messages = [f["message"] for f in report["findings"] if f["rule"] == "hf-shard-index-invalid"]
    assert any("layer.1.weight" in m and "model-00001-of-00002" in m for m in messages), messages
    assert any("model-00003-of-00003.safetensors" in m for m in messages), messages
    assert report["deploy_ready"] is False
    # The same judgement of the directory it came from.
    assert rules(lint_report(model, "--profile", "tei")).count("hf-shard-index-invalid") == 2


def test_serving_properties_decides_lmi_and_wrong_values_fail(tmp_path):
    model = sharded_model(tmp_path / "m")
    write_files(model, {"serving.properties":
                        "engine=Python\noption.rolling_batch=vllm\n"
                        "option.tensor_parallel_degree=eight\n",
                        "code/inference.py": "def model_fn(model_dir):\n    return 1\n"})
    report = lint_report(model)
    assert report["profile"] == "djl-lmi" and "serving.properties" in report["profile_reason"]
    invalid = [f for f in report["findings"] if f["rule"] == "djl-option-invalid"]
    assert len(invalid) == 1 and invalid[0]["line"] == 3, invalid
    assert "option.tensor_parallel_degree=eight" in invalid[0]["message"]
    assert "llm-code-ignored" in rules(report)
    (model / "serving.properties").write_text("engine=Python\noption.tensor_parallel_degree=max\n")
    fixed = lint_report(model)
    assert fixed["deploy_ready"] is True, fixed["findings"]
    # Deployed as a Model of the server's own image.
    assert "IMAGE_URI" in fixed["deploy_call"] and "image_uris.retrieve" not in fixed["deploy_call"]


def test_tei_needs_a_fast_tokenizer(tmp_path):
    model = sharded_model(tmp_path / "m")
    (model / "tokenizer.json").unlink()
    report = lint_report(model, "--env", "POOLING=cls")
    assert report["profile"] == "tei"
    missing = [f for f in report["findings"] if f["rule"] == "llm-tokenizer-missing"]
    assert missing and missing[0]["severity"] == "error", report["findings"]
    tgi = lint_report(model, "--profile", "tgi")
    assert "llm-tokenizer-missing" not in rules(tgi)  # tokenizer_config.json serves TGI


def test_the_new_rules_are_listed_and_documented():
    listed = run_smpack("lint", "--list-rules").stdout
    for rule in ("djl-option-invalid", "llm-config-missing", "llm-tokenizer-missing",
                 "llm-weights-not-safetensors", "llm-code-ignored", "hf-shard-index-invalid"):
        assert rule in listed
    assert "djl-lmi, tgi, tei" in run_smpack("lint", "--help").stdout


def test_the_servers_deploy_calls_set_what_the_server_reads_and_run(tmp_path):
    """TGI's and TEI's SageMaker entrypoints require HF_MODEL_ID; none of the servers reads
    SAGEMAKER_PROGRAM. The printed calls run under both SDKs without a repack."""
    model = sharded_model(tmp_path / "m")
    calls = []
    for sdk in ("v2", "v3"):
        for profile, extra in (("tgi", []), ("tei", []), ("djl-lmi", [])):
            report = lint_report(model, "--profile", profile, "--sdk", sdk, *extra)
            call = report["deploy_call"]
            assert call and "SAGEMAKER_PROGRAM" not in call, (profile, call)
            assert ('"HF_MODEL_ID": "/opt/ml/model"' in call) == (profile != "djl-lmi"), call
            calls.append((sdk, call))
    for sdk in ("v2", "v3"):
        answers = sdk_oracle(sdk, [{"snippet": c} for s, c in calls if s == sdk], tmp_path)
        for answer in answers:
            assert answer["error"] is None and answer["created"] and not answer["repacked"], answer


def test_a_directory_linted_as_a_prefix_gets_the_prefix_call(tmp_path):
    model = sharded_model(tmp_path / "m")
    report = lint_report(model, "--layout", "prefix", "--env", "HF_TASK=text-generation")
    assert report["deploy_ready"], report["findings"]
    assert '"s3_data_type": "S3Prefix"' in report["deploy_call"], report["deploy_call"]


def test_a_program_name_with_quotes_is_still_python(tmp_path):
    model = tmp_path / "m"
    write_files(model, {'code/we"ird.py': "def model_fn(model_dir):\n    return 1\n",
                        "model.bin": generate_weights(64)})
    for sdk in ("v2", "v3"):
        report = lint_report(model, "--sdk", sdk, "--env", 'SAGEMAKER_PROGRAM=we"ird.py')
        call = report["deploy_call"]
        assert call and 'we\\"ird.py' in call, (report["findings"], call)
        compile(call, "<deploy call>", "exec")  # a SyntaxError fails the test
