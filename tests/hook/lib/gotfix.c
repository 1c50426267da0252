/* libgotfix.so: the definitions the GOT tests hook. */
int gotfix_add(int a, int b)
{
	return a + b;
}

int gotfix_sub(int a, int b)
{
	return a - b;
}
