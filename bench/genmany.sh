#!/usr/bin/env bash
# Writes a C program with N functions (fn_00000 ...) to stdout, for the
# start-up benchmark: symbol lookup in a large unstripped binary. The file
# is compiled twice, with -DPART=0 and -DPART=1 (each defines half of the
# functions, so the two halves build in parallel); part 0 holds main, which
# calls the ten functions that bench/many.conf names.
set -euo pipefail
n=${1:-50000}
awk -v n="$n" 'BEGIN {
	print "#include <stdio.h>"
	for (i = 0; i < n; i++)
		printf "#if PART == %d\n__attribute__((noinline)) long fn_%05d(long x) { return x * %d + (x >> 3) - %d; }\n#endif\n", i % 2, i, i + 3, i
	print "#if PART == 0"
	for (k = 0; k < 10; k++)
		printf "long fn_%05d(long x);\n", int(k * (n - 1) / 9)
	print "int main(void)\n{\n\tlong s = 0;"
	for (k = 0; k < 10; k++)
		printf "\ts += fn_%05d(%d);\n", int(k * (n - 1) / 9), k
	print "\tprintf(\"%ld\\n\", s);\n\treturn 0;\n}\n#endif"
}'
