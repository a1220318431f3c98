// Placeholder entry point until the subcommands land (replaced in the foundation work).
int main() { return 0; }
