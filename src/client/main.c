/* SPDX-License-Identifier: MulanPSL-2.0 */
/* etmem: the one-shot client of etmemd. */
#include <unistd.h>

#include "client.h"

int main(int argc, char **argv)
{
	return etm_client_main(argc, argv, STDOUT_FILENO, stdout, stderr);
}
