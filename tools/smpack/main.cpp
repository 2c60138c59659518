#include "cli.h"

int main(int argc, char** argv) {
  return smpack::cli::run(argc, argv);
}
