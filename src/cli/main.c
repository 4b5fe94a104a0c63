#include "careshed/careshed.h"
#include <stdio.h>
int main(void) { printf("%s\n", cs_version()); return 0; }
