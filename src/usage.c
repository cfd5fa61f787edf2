/*
 * usage.c
 *	  --help: what each command does and takes, in the manner of pg_dump
 */
#include "fkscan/usage.h"

#include <stdio.h>

void
usage_main(void)
{
	printf("fkscan finds and repairs broken foreign keys in a PostgreSQL database.\n\n"
		   "Usage:\n"
		   "  fkscan COMMAND [OPTION]... [DBNAME | CONNINFO]\n\n"
		   "Commands:\n"
		   "  audit      list every foreign key and its state (catalog only)\n"
		   "  scan       find orphan rows with a parallel, read-only scan\n"
		   "  fix        repair orphan rows: delete, nullify or backfill (SQL or --apply)\n"
		   "  validate   mark clean foreign keys valid and enforced again\n\n"
		   "General options:\n"
		   "  -V, --version    output version information, then exit\n"
		   "  -?, --help       show this help, then exit\n\n"
		   "Run \"fkscan COMMAND --help\" for the options of a command.\n\n"
		   "Exit status: 0 nothing found, 1 orphans or broken foreign keys found,\n"
		   "2 error or incomplete answer.\n");
}

static void
common_help(FkCommand cmd)
{
	printf("\nSelection options (patterns as in pg_dump):\n"
		   "  -n, --schema=PATTERN          foreign keys of tables in matching schemas\n"
		   "  -N, --exclude-schema=PATTERN  skip tables in matching schemas\n"
		   "  -t, --table=PATTERN           foreign keys of matching tables only\n"
		   "  -T, --exclude-table=PATTERN   skip matching tables\n"
		   "  -c, --constraint=PATTERN      matching constraint names only\n"
		   "      --strict-names            a pattern that matches nothing is an error\n"
		   "      --relation=CHILD(COL,...)->PARENT(COL,...)  also an undeclared one\n"
		   "      --relations=FILE          --relation of each line (# comments)\n"
		   "\nOutput options:\n");
	if (cmd == CMD_SCAN)
		printf("      --format=text|json|jsonl  report format (default: text)\n"
			   "  -P, --progress, --no-progress  progress on stderr (default: on a terminal)\n");
	else if (cmd == CMD_AUDIT)
		printf("      --format=text|json        report format (default: text)\n"
			   "      --lock-timeout=DURATION   wait for locks at most this (default: 10s)\n");
	printf("  -q, --quiet                   no messages but errors\n"
		   "  -v, --verbose                 more messages (repeat for debug output)\n"
		   "\nConnection options:\n"
		   "  -d, --dbname=DBNAME           database name or connection string (PGDATABASE)\n"
		   "  -h, --host=HOSTNAME           database server host or socket directory\n"
		   "  -p, --port=PORT               database server port\n"
		   "  -U, --username=USERNAME       user name to connect as\n"
		   "  -w, --no-password             never prompt for password\n"
		   "  -W, --password                force password prompt\n");
}

void
usage_command(FkCommand cmd)
{
	if (cmd == CMD_AUDIT)
	{
		printf("fkscan audit lists every foreign key in scope with its columns, types,\n"
			   "MATCH rule, actions, and whether it is validated and enforced.\n"
			   "It reads the catalog only and is safe on a hot standby.\n\n"
			   "Usage:\n"
			   "  fkscan audit [OPTION]... [DBNAME | CONNINFO]\n");
		common_help(cmd);
		printf("\nExit status: 0 every foreign key validated and enforced, 1 some are not\n"
			   "(NOT VALID, RI triggers disabled or replica-only, NOT ENFORCED), 2 error.\n");
	}
	else if (cmd == CMD_FIX)
	{
		printf("fkscan fix scans the selected foreign keys, then prints the repair of\n"
			   "their orphan rows as a psql script, or runs it with --apply in one checked\n"
			   "transaction on the primary (rolled back if any count differs from the scan).\n\n"
			   "Usage:\n"
			   "  fkscan fix [OPTION]... --strategy=STRATEGY [DBNAME | CONNINFO]\n\n"
			   "Repair options:\n"
			   "      --strategy=delete|nullify|backfill|quarantine  delete the orphan rows,\n"
			   "                                set their foreign key columns to NULL, insert\n"
			   "                                stub parent rows for the missing keys, or move\n"
			   "                                the rows into a quarantine table\n"
			   "      --quarantine-table=SCHEMA.NAME  quarantine: where (default: the child's\n"
			   "                                schema, CHILD_quarantine; created if missing)\n"
			   "      --apply                   run it (default: print the SQL script only)\n"
			   "      --backup-dir=DIR          where deleted/updated rows are saved as CSV\n"
			   "                                with a restore script (default: "
			   "./fkscan-backup-TIME)\n"
			   "      --set=COLUMN=VALUE        backfill: a value for a NOT NULL parent column\n"
			   "      --cascade                 delete: allow ON DELETE CASCADE/SET NULL effects\n"
			   "      --batch-size=NUM          NUM orphan keys per transaction (resumable:\n"
			   "                                run again to go on; default: one transaction)\n"
			   "      --lock-timeout=DURATION   wait for locks at most this (default: 10s)\n"
			   "      --statement-timeout=DURATION  limit each statement (default: 10min)\n"
			   "  -j, --jobs=NUM                scan connections and threads (default: CPUs)\n");
		common_help(cmd);
		printf("\nExit status: 0 applied (or nothing to fix), 1 a repair is printed,\n"
			   "2 error, refusal or rollback (nothing was changed).\n");
	}
	else if (cmd == CMD_VALIDATE)
	{
		printf("fkscan validate scans the selected foreign keys; for each one found clean\n"
			   "it validates a NOT VALID constraint and enables disabled RI triggers.\n"
			   "Without --apply it prints the statements only.\n\n"
			   "Usage:\n"
			   "  fkscan validate [OPTION]... [DBNAME | CONNINFO]\n\n"
			   "Validate options:\n"
			   "      --apply                   run the statements (default: print them)\n"
			   "      --lock-timeout=DURATION   wait for each lock at most this (default: 10s)\n"
			   "      --lock-retries=NUM        retries after a lock timeout, with back-off\n"
			   "                                (default: 3)\n"
			   "      --add                     add each clean --relation as a foreign key\n"
			   "                                (NOT VALID, then VALIDATE CONSTRAINT)\n"
			   "      --statement-timeout=DURATION  limit each statement (default: 10min)\n"
			   "  -j, --jobs=NUM                scan connections and threads (default: CPUs)\n");
		common_help(cmd);
		printf("\nExit status: 0 every foreign key clean and valid, 1 orphans remain or\n"
			   "something is left to do, 2 error (a lock timeout included).\n");
	}
	else
	{
		printf("fkscan scan reads keys in parallel from one snapshot: every orphan row.\n\n"
			   "Usage:\n"
			   "  fkscan scan [OPTION]... [DBNAME | CONNINFO]\n\n"
			   "Scan options:\n"
			   "  -j, --jobs=NUM                connections and threads (default: CPUs)\n"
			   "      --fetch=binary|text|cursor  how rows are streamed (default: binary)\n"
			   "      --sample=NUM              orphan rows shown per foreign key (default: 5)\n"
			   "      --orphans-out=FILE|DIR    every orphan row as CSV (DIR: a file per FK)\n"
			   "      --chunk-size=SIZE         table slice per work unit (default: auto)\n"
			   "      --lock-timeout=DURATION   wait for table locks at most this (default: 10s)\n"
			   "      --memory-limit=SIZE       memory for parent keys (default: RAM/4)\n"
			   "      --compare=server          also run the server's anti-join; must agree\n"
			   "      --max-rate=N[MB]          read at most N rows (or N MB) per second in all\n"
			   "      --max-time=DURATION       stop then; FKs not finished are incomplete\n"
			   "      --order=size|name|catalog  child tables in this order (default: size)\n"
			   "      --state=FILE              record finished FKs; skip those FILE has\n"
			   "      --max-orphans=NUM         exit 0 if at most NUM orphan rows in all\n"
			   "      --max-orphans-per-fk=NUM  exit 0 if at most NUM in each foreign key\n"
			   "      --max-orphans-ratio=FRAC  ... or FRAC of its rows (0.001: one in 1000)\n"
			   "      --baseline=FILE           orphans of an earlier run's report do not count\n"
			   "\nHot standby options:\n"
			   "      --consistency=snapshot|chunk  on a conflict: restart, or retry the chunk\n"
			   "      --retries=NUM             restarts or chunk retries allowed (default: 3)\n"
			   "      --pause-replay            pause WAL replay during the scan\n"
			   "      --max-lag=DURATION        refuse to start on a standby further behind\n"
			   "      --replica=CONNINFO        also read on this standby (repeatable)\n"
			   "      --spread=fk|chunk         replicas read whole FKs, or chunks of every FK\n");
		common_help(cmd);
		printf("\nExit status: 0 no orphans (or within --max-orphans*), 1 orphans, 2 error.\n");
	}
}
