/*
 * result.c
 *	  Freeing scan results.
 */
#include "fkscan/result.h"

#include <stdlib.h>
#include <string.h>

void
fkresult_reset(FkResult *r)
{
	for (int j = 0; j < r->nsamples; j++)
	{
		for (int k = 0; k < r->samples[j].nkeys; k++)
			free(r->samples[j].key[k]);
		free(r->samples[j].key);
		free(r->samples[j].ctid);
	}
	free(r->samples);
	free(r->error);
	free(r->cascade);
	free(r->snapshot);
	free(r->finished_at);
	for (int j = 0; j < r->nchunk_snapshots; j++)
		free(r->chunk_snapshots[j]);
	free(r->chunk_snapshots);
	r->chunk_snapshots = NULL;
	r->nchunk_snapshots = 0;
	r->resumed_chunks = 0;
	r->snapshot = NULL;
	r->finished_at = NULL;
	r->samples = NULL;
	r->nsamples = 0;
	r->error = NULL;
	r->cascade = NULL;
	r->ncascade = 0;
}

void
scanresult_free(ScanResult *r)
{
	if (r == NULL)
		return;
	for (int i = 0; i < r->nfks; i++)
		fkresult_reset(&r->fks[i]);
	free(r->fks);
	catalog_free(r->graph);
	free(r->database);
	free(r->snapshot);
	for (int i = 0; i < r->nservers; i++)
	{
		free(r->servers[i].name);
		free(r->servers[i].address);
	}
	free(r->servers);
	memset(r, 0, sizeof(*r));
}

static const char *const method_names[] = {
	[METHOD_NONE] = NULL,	[METHOD_BITMAP] = "bitmap", [METHOD_ROARING] = "roaring",
	[METHOD_HASH] = "hash", [METHOD_SERVER] = "server",
};

const char *
check_method_name(CheckMethod m)
{
	return (size_t) m < FK_LENGTHOF(method_names) ? method_names[m] : NULL;
}

CheckMethod
check_method_parse(const char *name)
{
	for (size_t i = 0; name && i < FK_LENGTHOF(method_names); i++)
		if (method_names[i] && strcmp(name, method_names[i]) == 0)
			return (CheckMethod) i;
	return METHOD_NONE;
}

const char *
scanresult_status_name(FkStatus status)
{
	switch (status)
	{
		case FKSTATUS_CLEAN:
			return "clean";
		case FKSTATUS_ORPHANS:
			return "orphans";
		case FKSTATUS_INCOMPLETE:
			return "incomplete";
		case FKSTATUS_ERROR:
			break;
	}
	return "error";
}
