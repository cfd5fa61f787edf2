/*
 * partial.c
 *	  An FK's findings in part of its rows
 */
#include "fkscan/partial.h"

#include <stdlib.h>

void
partial_merge(FkPartial *dst, const FkPartial *src, int sample_cap)
{
	dst->child_rows += src->child_rows;
	dst->null_rows += src->null_rows;
	dst->partial_null_rows += src->partial_null_rows;
	dst->orphan_rows += src->orphan_rows;
	if (src->orphans)
		keyset64_merge_inplace(dst->orphans, src->orphans);
	if (src->cands)
		candset_merge_inplace(dst->cands, src->cands);
	for (int i = 0; i < src->nsamples && dst->nsamples < sample_cap; i++)
		dst->samples[dst->nsamples++] = src->samples[i];
}

void
partial_free(FkPartial *p)
{
	keyset64_free(p->orphans);
	candset_free(p->cands);
	free(p->samples);
	free(p->olist);
}
