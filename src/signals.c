/*
 * signals.c
 *	  A sigwait() thread that turns SIGINT/SIGTERM/SIGHUP into PQcancel() calls
 *	  (a closed terminal must not leave a backend running on)
 */
#include "fkscan/signals.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <unistd.h>

#include "fkscan/log.h"

#define MAX_SLOTS 1024

static pthread_mutex_t slots_lock = PTHREAD_MUTEX_INITIALIZER;
static PGcancel *slots[MAX_SLOTS];
static atomic_bool cancel_requested;
static pthread_t watcher;
static void (*_Atomic exit_hook) (void);
static bool watcher_running;

static void
cancel_all(void)
{
	char		errbuf[256];

	pthread_mutex_lock(&slots_lock);
	for (int i = 0; i < MAX_SLOTS; i++)
		if (slots[i])
			(void) PQcancel(slots[i], errbuf, sizeof(errbuf));
	pthread_mutex_unlock(&slots_lock);
}

static void *
watch_signals(void *arg)
{
	sigset_t   *set = arg;

	for (;;)
	{
		int			sig;

		if (sigwait(set, &sig) != 0)
			continue;
		if (sig == SIGUSR1)		/* teardown */
			break;
		if (atomic_exchange(&cancel_requested, true))
		{
			/* second Ctrl-C: stop waiting, but undo what must not outlive us */
			void		(*hook) (void) = atomic_load(&exit_hook);

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
signals_set_exit_hook(void (*fn) (void))
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

int
signals_register(PGconn *conn)
{
	PGcancel   *c = PQgetCancel(conn);
	int			slot = -1;

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
	PGcancel   *c;

	if (slot < 0 || slot >= MAX_SLOTS)
		return;
	pthread_mutex_lock(&slots_lock);
	c = slots[slot];
	slots[slot] = NULL;
	pthread_mutex_unlock(&slots_lock);
	if (c)
		PQfreeCancel(c);
}
