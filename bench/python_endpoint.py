"""The toolkit's Python path behind a Python HTTP server: sagemaker-inference's Transformer
with the PyTorch default handler (as the container's model server runs it), answering GET
/ping and POST /invocations from a ThreadingHTTPServer. Run it with .venv-serving's Python:
  python_endpoint.py MODEL_DIR PORT"""

import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "cli"))
from serving_oracle import Context, DefaultPytorchInferenceHandler, Transformer  # noqa: E402


def main():
    model_dir, port = sys.argv[1], int(sys.argv[2])
    transformer = Transformer(default_inference_handler=DefaultPytorchInferenceHandler())
    transformer.validate_and_initialize(model_dir=model_dir, context=Context(model_dir))

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # as smpack's server: no 40 ms delayed-ACK stall

        def log_message(self, *args):
            pass

        def reply(self, status, body, content_type):
            self.send_response(status)
            self.send_header("Content-Type", content_type or "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            self.reply(200 if self.path == "/ping" else 404, b"", None)

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            headers = {k: v for k, v in self.headers.items() if k.lower() in ("content-type", "accept")}
            context = Context(model_dir)
            context.begin(headers)
            result = transformer.transform([{"body": body}], context)[0]
            self.reply(context.status, result.encode() if isinstance(result, str) else result,
                       context.content_type)

    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


if __name__ == "__main__":
    main()
