/*
 * test_pattern.c
 *	  pg_dump-style patterns to regexes: the exact regex text, and what the
 *	  regex matches (checked with the C library's POSIX extended regexes,
 *	  which agree with the server's AREs on everything the module emits).
 */
#include <regex.h>
#include <stdlib.h>

#include "fkscan/pattern.h"
#include "test.h"

/* The single-part conversion of pattern, or NULL if it was refused. */
static char *
one(const char *pattern)
{
	char *parts[PATTERN_MAX_PARTS] = {NULL};

	if (pattern_to_regexes(pattern, 1, parts) != 1)
		return NULL;
	return parts[0];
}

static void
is_regex(const char *pattern, const char *want)
{
	char *got = one(pattern);
	char  name[256];

	snprintf(name, sizeof(name), "pattern %s -> %s", pattern, want);
	is_str(got, want, name);
	free(got);
}

/* Does the single-part regex of pattern match subject exactly? */
static bool
matches(const char *pattern, const char *subject)
{
	char   *re = one(pattern);
	regex_t compiled;
	bool	hit;

	if (re == NULL)
		return false;
	if (regcomp(&compiled, re, REG_EXTENDED | REG_NOSUB) != 0)
	{
		printf("# regcomp failed for %s\n", re);
		free(re);
		return false;
	}
	hit = regexec(&compiled, subject, 0, NULL, 0) == 0;
	regfree(&compiled);
	free(re);
	return hit;
}

static void
test_exact_text(void)
{
	is_regex("orders", "^(orders)$");
	is_regex("Orders", "^(orders)$");
	is_regex("ORDERS_2024", "^(orders_2024)$");
	is_regex("\"Orders\"", "^(Orders)$");
	is_regex("ord*", "^(ord.*)$");
	is_regex("ord?rs", "^(ord.rs)$");
	is_regex("*", "^(.*)$");
	is_regex("", "^()$");
	is_regex("\"a*b\"", "^(a\\*b)$");
	is_regex("\"a?b\"", "^(a\\?b)$");
	is_regex("\"a.b\"", "^(a\\.b)$");
	is_regex("\"a\"\"b\"", "^(a\"b)$");
	is_regex("\"\"\"\"", "^(\")$");
	is_regex("a\"\"b", "^(ab)$");
	is_regex("My\"Big\"Table", "^(myBigtable)$");
	is_regex("price$", "^(price\\$)$");
	is_regex("a+b", "^(a\\+b)$");
	is_regex("a|b", "^(a\\|b)$");
	is_regex("f(x)", "^(f\\(x\\))$");
	is_regex("[0-9]", "^(\\[0-9\\])$");
	is_regex("{1,2}", "^(\\{1,2\\})$");
	is_regex("^x", "^(\\^x)$");
	is_regex("back\\slash", "^(back\\\\slash)$");
	is_regex("semi;colon", "^(semi;colon)$");
	is_regex("sp ace", "^(sp ace)$");
	is_regex("\"sp ace\"", "^(sp ace)$");
	/* UTF-8 bytes pass through untouched; only ASCII letters fold */
	is_regex("Ünïcode", "^(Ünïcode)$");
	is_regex("ÄB", "^(Äb)$");
	/* an unterminated quote ends with the pattern, as in pg_dump */
	is_regex("\"Open*", "^(Open\\*)$");
}

static void
test_parts(void)
{
	char *parts[PATTERN_MAX_PARTS] = {NULL};
	int	  n;

	n = pattern_to_regexes("Sales.Orders", 2, parts);
	is_int(n, 2, "schema.table has two parts");
	is_str(parts[0], "^(sales)$", "schema part folded");
	is_str(parts[1], "^(orders)$", "table part folded");
	pattern_free_parts(parts, n);
	ok(parts[0] == NULL && parts[1] == NULL, "pattern_free_parts clears the slots");

	n = pattern_to_regexes("orders", 2, parts);
	is_int(n, 1, "unqualified table has one part");
	is_str(parts[0], "^(orders)$", "the only part is the table");
	pattern_free_parts(parts, n);

	n = pattern_to_regexes("\"my.schema\".\"t.x\"", 2, parts);
	is_int(n, 2, "dots inside quotes do not split");
	is_str(parts[0], "^(my\\.schema)$", "quoted schema with a dot");
	is_str(parts[1], "^(t\\.x)$", "quoted table with a dot");
	pattern_free_parts(parts, n);

	n = pattern_to_regexes("\"a.b.c\"", 2, parts);
	is_int(n, 1, "a fully quoted dotted name is one part");
	is_str(parts[0], "^(a\\.b\\.c)$", "its dots are literal");
	pattern_free_parts(parts, n);

	n = pattern_to_regexes("*.orders", 2, parts);
	is_int(n, 2, "wildcard schema");
	is_str(parts[0], "^(.*)$", "schema wildcard");
	pattern_free_parts(parts, n);

	n = pattern_to_regexes(".orders", 2, parts);
	is_int(n, 2, "leading dot: empty schema part");
	is_str(parts[0], "^()$", "empty schema part matches nothing but empty");
	pattern_free_parts(parts, n);

	n = pattern_to_regexes("orders.", 2, parts);
	is_int(n, 2, "trailing dot: empty table part");
	is_str(parts[1], "^()$", "empty table part");
	pattern_free_parts(parts, n);

	n = pattern_to_regexes("db.sales.orders", 2, parts);
	is_int(n, 0, "three-part pattern is refused");
	ok(parts[0] == NULL && parts[1] == NULL, "nothing is left allocated on refusal");

	n = pattern_to_regexes("a..b", 2, parts);
	is_int(n, 0, "two dots are three parts");

	n = pattern_to_regexes("sales.orders", 1, parts);
	is_int(n, 0, "a qualified name where only one part is allowed is refused");

	n = pattern_to_regexes("\"sales.orders\"", 1, parts);
	is_int(n, 1, "a quoted dot is fine where only one part is allowed");
	pattern_free_parts(parts, n);
	pattern_free_parts(NULL, 0);
	ok(true, "pattern_free_parts(NULL, 0) is a no-op");
}

static void
test_matching(void)
{
	ok(matches("orders", "orders"), "plain name matches itself");
	ok(!matches("orders", "orders2"), "anchored at the end");
	ok(!matches("orders", "my_orders"), "anchored at the start");
	ok(matches("ORDERS", "orders"), "unquoted upper case folds");
	ok(!matches("ORDERS", "ORDERS"), "folded pattern misses the upper-case name");
	ok(matches("\"ORDERS\"", "ORDERS"), "quoted keeps case");
	ok(!matches("\"ORDERS\"", "orders"), "quoted does not fold");
	ok(matches("ord*", "orders"), "* matches a suffix");
	ok(matches("ord*", "ord"), "* matches the empty string");
	ok(matches("*_fkey", "orders_customer_id_fkey"), "* matches a prefix");
	ok(matches("ord?rs", "orders"), "? matches one character");
	ok(!matches("ord?rs", "ordrs"), "? needs one character");
	ok(!matches("ord?rs", "ordeers"), "? matches only one character");
	ok(matches("\"a*\"", "a*"), "quoted * is literal");
	ok(!matches("\"a*\"", "abc"), "quoted * is not a wildcard");
	ok(matches("\"a?\"", "a?"), "quoted ? is literal");
	ok(!matches("\"a?\"", "ab"), "quoted ? is not a wildcard");
	ok(matches("price$", "price$"), "$ is literal");
	ok(!matches("price$", "price"), "$ does not anchor");
	ok(matches("a+b", "a+b"), "+ is literal");
	ok(!matches("a+b", "aab"), "+ is not a repetition");
	ok(matches("a|b", "a|b"), "| is literal");
	ok(!matches("a|b", "a"), "| is not alternation");
	ok(matches("f(x)", "f(x)"), "parentheses are literal");
	ok(!matches("f(x)", "fx"), "parentheses do not group");
	ok(matches("[ab]", "[ab]"), "brackets are literal");
	ok(!matches("[ab]", "a"), "brackets are not a class");
	ok(matches("a.b", "a.b") == false, "unquoted dot is a separator, refused in one part");
	ok(matches("\"a.b\"", "a.b"), "quoted dot is literal");
	ok(!matches("\"a.b\"", "axb"), "quoted dot is not any character");
	ok(matches("\"we\"\"ird\"", "we\"ird"), "doubled quote inside quotes");
	ok(matches("\"Tab le.;\"\"x\"\"\"", "Tab le.;\"x\""), "hostile quoted name");
	ok(matches("back\\slash", "back\\slash"), "backslash is literal");
	ok(matches("*", ""), "* matches the empty name");
	ok(!matches("", "x"), "empty pattern matches no non-empty name");
	ok(matches("sel*", "select"), "reserved words are just names");
}

int
main(void)
{
	test_exact_text();
	test_parts();
	test_matching();
	return done_testing();
}
