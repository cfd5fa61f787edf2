/*
 * jsonr.h
 *	  A small JSON reader (RFC 8259) into a tree: for reading fkscan's own
 *	  reports and CSV key objects back (--baseline), not a general library.
 *
 * Strings are UTF-8 (\u escapes and surrogate pairs decoded; a NUL escape is
 * refused: no name or key text can hold one); numbers are kept as their
 * text.  Nesting deeper than JSONR_MAX_DEPTH is refused.
 */
#ifndef FKSCAN_JSONR_H
#define FKSCAN_JSONR_H

#include <stdbool.h>
#include <stddef.h>

#define JSONR_MAX_DEPTH 64

typedef enum JsonKind
{
	JSON_NULL,
	JSON_FALSE,
	JSON_TRUE,
	JSON_NUMBER,
	JSON_STRING,
	JSON_ARRAY,
	JSON_OBJECT
} JsonKind;

typedef struct JsonValue
{
	JsonKind		  kind;
	char			 *text;	 /* JSON_STRING, JSON_NUMBER */
	struct JsonValue *items; /* JSON_ARRAY elements, JSON_OBJECT values */
	char			**keys;	 /* JSON_OBJECT: the key of each value */
	int				  n;
} JsonValue;

/*
 * Parse len bytes holding one JSON value (blanks around it allowed).
 * Returns NULL with *error set to a static description and *offset to
 * where it went wrong.
 */
JsonValue *jsonr_parse(const char *text, size_t len, const char **error, size_t *offset);
void	   jsonr_free(JsonValue *v);

/* The value of key in an object, or NULL (not an object, or no such key). */
const JsonValue *jsonr_get(const JsonValue *object, const char *key);

/* The string of v, or NULL when v is not a string. */
const char *jsonr_string(const JsonValue *v);

#endif /* FKSCAN_JSONR_H */
