/* exec-guard ARGV...: installs the sandbox's seccomp filter (seccomp_filter.h), then becomes ARGV. */

#include <stdio.h>
#include <unistd.h>

#include "seccomp_filter.h"

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: exec-guard ARGV...\n");
        return 125;
    }
    if (install_seccomp_filter() != 0) {
        perror("exec-guard: seccomp");
        return 125;
    }
    execvp(argv[1], argv + 1);
    perror("exec-guard: exec");
    return 127;
}
