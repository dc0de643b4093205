/*
 * daemon.c - korpud without -f: detach from the terminal, yet let the
 * shell that started it learn whether it serves. The parent waits on a
 * pipe until the child reports it listens (or dies), so its exit status
 * means something to an init script, and start-up errors still reach
 * the terminal.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "korpud.h"

/* Points fd_to at /dev/null. */
static int
to_dev_null(int fd_to)
{
	int fd = open("/dev/null", O_RDWR);

	if (fd < 0)
		return -1;
	if (dup2(fd, fd_to) < 0) {
		close(fd);
		return -1;
	}
	if (fd != fd_to)
		close(fd);
	return 0;
}

/* The parent's end: the child closed the pipe without a word. */
static void
child_failed(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) == pid && WIFSIGNALED(status))
		fprintf(stderr, "korpud: died during start-up (signal %d: %s)\n",
		    WTERMSIG(status), strsignal(WTERMSIG(status)));
	/* else it exited, having said why on stderr */
}

/* Forks. The parent never returns: it exits 0 once the child reports
 * that it serves, 1 if the child exits first. Returns, in the child, the
 * pipe to report on; -1 (errno set) if there is no child. */
int
daemon_fork(void)
{
	int fds[2];
	char ok = 0;
	pid_t pid;

	/* close-on-exec: nothing the daemon ever runs may hold the parent. */
	if (pipe2(fds, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid > 0) {
		close(fds[1]);
		while (read(fds[0], &ok, 1) < 0 && errno == EINTR)
			;
		if (ok != 1)
			child_failed(pid);
		_exit(ok == 1 ? 0 : 1);
	}
	close(fds[0]);
	return fds[1];
}

/* The child leaves the shell's session and working folder. stdout and
 * stderr stay until daemon_started, for start-up errors. */
int
daemon_detach(void)
{
	if (setsid() < 0 || chdir("/") < 0)
		return -1;
	return to_dev_null(STDIN_FILENO);
}

/* Tells the waiting parent that korpud serves, and lets go of the
 * terminal: from now on only syslog hears from korpud. */
void
daemon_started(int report_fd)
{
	char ok = 1;

	to_dev_null(STDOUT_FILENO);
	to_dev_null(STDERR_FILENO);
	if (write(report_fd, &ok, 1) < 0)
		log_warn("cannot tell the starting shell that korpud runs: %s", strerror(errno));
	close(report_fd);
}
