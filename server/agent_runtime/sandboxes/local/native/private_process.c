/* Preloaded into the agent CLI (LD_PRELOAD), before its main: makes the process non-dumpable, so no other
process of the sandbox, though it runs as the same user, may ptrace it, read or write its memory, open
its /proc files or take its file descriptors; the runtime trusts what the CLI writes on its stdout, and
the tools it starts must not write there in its name. The preload is taken out of the environment, so
those tools are ordinary processes again. */

#include <stdlib.h>
#include <sys/prctl.h>

__attribute__((constructor)) static void make_private(void) {
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    unsetenv("LD_PRELOAD");
}
