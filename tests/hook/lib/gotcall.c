/* libgotcall.so: calls libgotfix.so through its PLT and GOT. */
int gotfix_add(int a, int b);
int gotfix_sub(int a, int b);

int gotcall_add(int a, int b)
{
	return gotfix_add(a, b) + 0;
}

/* the address comes from a GLOB_DAT slot */
int (*gotcall_ptr(void))(int, int)
{
	return gotfix_add;
}

int gotcall_sub(int a, int b)
{
	return gotfix_sub(a, b) + 0;
}
