# Control fixtures: a program that calls memoized functions on command, and
# the API example (examples/api) built the way a user would build it.
CTD := $(B)/tests/control

$(CTD)/ctlfix: tests/control/fixtures/ctlfix.c
	@mkdir -p $(@D)
	$(CC) -O2 -g -o $@ $<
$(CTD)/api-example: examples/api/example.c include/ldmemo.h
	@mkdir -p $(@D)
	$(CC) -O2 -g -Wall -Wextra -Werror -Iinclude -o $@ $< -ldl

FIXTURES += $(CTD)/ctlfix $(CTD)/api-example
