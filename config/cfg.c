/* placeholder: the configuration engine lands in the next commit */
int cfg__placeholder(void);
int cfg__placeholder(void) { return 0; }
