/* sandbox-enter PID UID CPU_SECONDS FILE_SIZE_BYTES MAX_PROCESSES DIRECTORY PROCS_FILE... -- NAME=VALUE... -- ARGV...

Runs ARGV in the sandbox whose namespaces process PID holds, in one program where a command used to pass
through five (sh joining the control groups, nsenter, setpriv, prlimit, env), each a fork and exec:
- moves itself into the sandbox's control groups (writes its pid to each cgroup.procs file), so everything
  it starts is counted and killable; a group it cannot join stops the command (exit 125);
- enters PID's mount, pid, network, IPC, UTS and cgroup namespaces, then forks, so that the command is in
  the pid namespace; the parent waits and ends as the command did, as nsenter does;
- becomes UID (gid UID, no supplementary groups), with no capabilities now or ever (empty bounding,
  inheritable and ambient sets) and no_new_privs;
- sets its per-process limits (CPU seconds, file size, no core dumps, processes of its uid);
- changes to DIRECTORY (a path inside the sandbox), installs the sandbox's seccomp filter (seccomp_filter.h)
  and runs ARGV, found on the PATH of its exactly NAME=VALUE environment.
It is started by the runtime as root, and keeps no privilege past the fork. */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "seccomp_filter.h"

#define FAILED 125

extern char **environ;

static const struct {
    const char *name;
    int type;
} NAMESPACES[] = {
    /* The order nsenter uses: the mount namespace last, as it changes the root that /proc is read from. */
    {"cgroup", CLONE_NEWCGROUP}, {"ipc", CLONE_NEWIPC}, {"uts", CLONE_NEWUTS},
    {"net", CLONE_NEWNET},       {"pid", CLONE_NEWPID}, {"mnt", CLONE_NEWNS},
};
#define NAMESPACE_COUNT (sizeof NAMESPACES / sizeof NAMESPACES[0])

__attribute__((noreturn)) static void fail(const char *what) {
    fprintf(stderr, "sandbox-enter: %s: %s\n", what, strerror(errno));
    exit(FAILED);
}

static unsigned long number(const char *text, const char *what) {
    char *end;
    errno = 0;
    unsigned long value = strtoul(text, &end, 10);
    if (errno || *text == '\0' || *end != '\0') {
        fprintf(stderr, "sandbox-enter: %s %s is not a number\n", what, text);
        exit(FAILED);
    }
    return value;
}

static void join_control_groups(char **files, int count) {
    char pid[32];
    int length = snprintf(pid, sizeof pid, "%d", getpid());
    for (int index = 0; index < count; index++) {
        int fd = open(files[index], O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write(fd, pid, length) != length || close(fd) != 0) {
            fail(files[index]);
        }
    }
}

static void enter_namespaces(const char *target) {
    int fds[NAMESPACE_COUNT];
    char path[64];
    for (size_t index = 0; index < NAMESPACE_COUNT; index++) {  /* all opened before the first is entered */
        snprintf(path, sizeof path, "/proc/%s/ns/%s", target, NAMESPACES[index].name);
        if ((fds[index] = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
            fail(path);
        }
    }
    for (size_t index = 0; index < NAMESPACE_COUNT; index++) {
        if (setns(fds[index], NAMESPACES[index].type) != 0) {
            fail(NAMESPACES[index].name);
        }
        close(fds[index]);
    }
}

/* Only the child returns; the parent ends as the child did. */
static void continue_as_child(void) {
    signal(SIGCHLD, SIG_DFL);
    pid_t child = fork();
    if (child < 0) {
        fail("fork");
    }
    if (child == 0) {
        return;
    }
    int status;
    for (;;) {
        pid_t ended = waitpid(child, &status, WUNTRACED);
        if (ended == child && WIFSTOPPED(status)) {  /* the child was suspended: so is its parent */
            kill(getpid(), SIGSTOP);
            kill(child, SIGCONT);
        } else if (ended < 0 && errno == EINTR) {
            continue;
        } else {
            break;
        }
    }
    if (WIFEXITED(status)) {
        exit(WEXITSTATUS(status));
    }
    if (WIFSIGNALED(status)) {
        signal(WTERMSIG(status), SIG_DFL);
        kill(getpid(), WTERMSIG(status));
    }
    exit(EXIT_FAILURE);
}

static void drop_privileges(uid_t uid) {
    for (int cap = 0; cap <= CAP_LAST_CAP; cap++) {
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) {
            fail("bounding set");
        }
    }
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) {
        fail("ambient capabilities");
    }
    if (setgroups(0, NULL) != 0 || setresgid(uid, uid, uid) != 0 || setresuid(uid, uid, uid) != 0) {
        fail("uid");
    }
    /* The change of uid emptied the permitted and effective sets; the inheritable set is emptied here. */
    struct __user_cap_header_struct header = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct none[_LINUX_CAPABILITY_U32S_3] = {{0}};
    if (syscall(SYS_capset, &header, none) != 0) {
        fail("capabilities");
    }
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
        fail("no_new_privs");
    }
}

static void limit(int resource, rlim_t value, const char *what) {
    struct rlimit both = {.rlim_cur = value, .rlim_max = value};
    if (setrlimit(resource, &both) != 0) {
        fail(what);
    }
}

/* The index of the next "--" from `from`, or -1. */
static int separator(int argc, char **argv, int from) {
    for (int index = from; index < argc; index++) {
        if (strcmp(argv[index], "--") == 0) {
            return index;
        }
    }
    return -1;
}

int main(int argc, char **argv) {
    int groups_end = separator(argc, argv, 7);
    int environment_end = groups_end < 0 ? -1 : separator(argc, argv, groups_end + 1);
    if (argc < 8 || environment_end < 0 || environment_end + 1 >= argc) {
        fprintf(stderr, "usage: sandbox-enter PID UID CPU FSIZE NPROC DIRECTORY PROCS... -- ENV... -- ARGV...\n");
        return FAILED;
    }
    const char *target = argv[1];
    number(target, "pid");
    uid_t uid = (uid_t)number(argv[2], "uid");
    rlim_t cpu_seconds = number(argv[3], "cpu seconds");
    rlim_t file_size = number(argv[4], "file size");
    rlim_t processes = number(argv[5], "processes");
    const char *directory = argv[6];

    join_control_groups(argv + 7, groups_end - 7);
    enter_namespaces(target);
    continue_as_child();
    drop_privileges(uid);
    limit(RLIMIT_CPU, cpu_seconds, "cpu limit");
    limit(RLIMIT_FSIZE, file_size, "file size limit");
    limit(RLIMIT_CORE, 0, "core limit");
    limit(RLIMIT_NPROC, processes, "process limit");
    if (chdir(directory) != 0) {
        fail(directory);
    }
    char **environment = calloc(environment_end - groups_end, sizeof *environment);
    if (environment == NULL) {
        fail("environment");
    }
    memcpy(environment, argv + groups_end + 1, (environment_end - groups_end - 1) * sizeof *environment);
    if (install_seccomp_filter() != 0) {
        fail("seccomp");
    }
    environ = environment; /* execvp looks ARGV[0] up on this environment's PATH */
    execvp(argv[environment_end + 1], argv + environment_end + 1);
    fprintf(stderr, "sandbox-enter: exec %s: %s\n", argv[environment_end + 1], strerror(errno));
    return 127;
}
