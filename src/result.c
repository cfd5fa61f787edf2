/*
 * result.c
 *	  Freeing scan results.
 */
#include "fkscan/result.h"

#include <stdlib.h>
#include <string.h>

void
scanresult_free(ScanResult *r)
{
	if (r == NULL)
		return;
	for (int i = 0; i < r->nfks; i++)
	{
		FkResult   *f = &r->fks[i];

		for (int j = 0; j < f->nsamples; j++)
		{
			for (int k = 0; k < f->samples[j].nkeys; k++)
				free(f->samples[j].key[k]);
			free(f->samples[j].key);
			free(f->samples[j].ctid);
		}
		free(f->samples);
		free(f->error);
	}
	free(r->fks);
	free(r->database);
	free(r->snapshot);
	memset(r, 0, sizeof(*r));
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
		case FKSTATUS_ERROR:
			break;
	}
	return "error";
}
