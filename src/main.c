/* kho — a provincial data platform in one binary. Entry point: see cli/cli.h. */
#include "cli/cli.h"

int main(int argc, char **argv)
{
    return kho_cli_main(argc, argv);
}
