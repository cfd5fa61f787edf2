/*
 * signals.c
 *	  A sigwait() thread that turns SIGINT/SIGTERM/SIGHUP into PQcancel() calls
 *	  (a closed terminal must not leave a backend running on)
 */
#include "fkscan/signals.h"

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdatomic.h>
#include <unistd.h>

#include "fkscan/log.h"

#define MAX_SLOTS 1024

static pthread_mutex_t slots_lock = PTHREAD_MUTEX_INITIALIZER;
static PGcancel		  *slots[MAX_SLOTS];
static atomic_bool	   cancel_requested;
static pthread_t	   watcher;
static void (*_Atomic exit_hook)(void);
static atomic_int watched_fd = -1;
static bool		  watcher_running;

/* A pipe whose reader closed it polls as POLLERR on the writing side. */
static bool
reader_gone(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLOUT};

	return poll(&p, 1, 0) == 1 && (p.revents & POLLERR);
}

static void
cancel_all(void)
{
	char errbuf[256];

	pthread_mutex_lock(&slots_lock);
	for (int i = 0; i < MAX_SLOTS; i++)
		if (slots[i])
			(void) PQcancel(slots[i], errbuf, sizeof(errbuf));
	pthread_mutex_unlock(&slots_lock);
}

static void *
watch_signals(void *arg)
{
	sigset_t *set = arg;

	for (;;)
	{
		const struct timespec tick = {.tv_sec = 0, .tv_nsec = 200 * 1000 * 1000};
		int					  fd = atomic_load(&watched_fd);
		int					  sig;

		if (fd < 0)
		{
			if (sigwait(set, &sig) != 0)
				continue;
		}
		else if ((sig = sigtimedwait(set, NULL, &tick)) < 0)
		{
			if (fd >= 0 && reader_gone(fd))
			{
				atomic_store(&watched_fd, -1);
				signals_stop("the report's reader went away");
			}
			continue;
		}
		if (sig == SIGUSR1) /* teardown */
			break;
		if (sig == SIGUSR2) /* signals_watch_output() */
			continue;
		if (atomic_exchange(&cancel_requested, true))
		{
			/* second Ctrl-C: stop waiting, but undo what must not outlive us */
			void (*hook)(void) = atomic_load(&exit_hook);

			if (hook)
				hook();
			_exit(FK_EXIT_ERROR);
		}
		log_raw("fkscan: canceling: interrupted by signal\n");
		cancel_all();
	}
	return NULL;
}

bool
signals_setup(void)
{
	static sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0 ||
		pthread_create(&watcher, NULL, watch_signals, &set) != 0)
	{
		log_error("could not set up signal handling");
		return false;
	}
	watcher_running = true;
	return true;
}

void
signals_teardown(void)
{
	if (!watcher_running)
		return;
	pthread_kill(watcher, SIGUSR1);
	pthread_join(watcher, NULL);
	watcher_running = false;
}

void
signals_set_exit_hook(void (*fn)(void))
{
	atomic_store(&exit_hook, fn);
}

bool
signals_interrupted(void)
{
	return atomic_load_explicit(&cancel_requested, memory_order_relaxed);
}

void
signals_cancel_queries(void)
{
	cancel_all();
}

void
signals_watch_output(int fd)
{
	atomic_store(&watched_fd, fd);
	if (watcher_running)
		pthread_kill(watcher, SIGUSR2); /* re-enter the loop with a tick */
}

void
signals_stop(const char *why)
{
	char line[256];

	if (atomic_exchange(&cancel_requested, true))
		return;
	snprintf(line, sizeof(line), "fkscan: canceling: %s\n", why);
	log_raw(line);
	cancel_all();
}

int
signals_register(PGconn *conn)
{
	PGcancel *c = PQgetCancel(conn);
	int		  slot = -1;

	if (c == NULL)
		return -1;
	pthread_mutex_lock(&slots_lock);
	for (int i = 0; i < MAX_SLOTS; i++)
	{
		if (slots[i] == NULL)
		{
			slots[i] = c;
			slot = i;
			break;
		}
	}
	pthread_mutex_unlock(&slots_lock);
	if (slot < 0)
		PQfreeCancel(c);
	return slot;
}

void
signals_unregister(int slot)
{
	PGcancel *c;

	if (slot < 0 || slot >= MAX_SLOTS)
		return;
	pthread_mutex_lock(&slots_lock);
	c = slots[slot];
	slots[slot] = NULL;
	pthread_mutex_unlock(&slots_lock);
	if (c)
		PQfreeCancel(c);
}
