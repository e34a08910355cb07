from dla_docs.cli import console_main

console_main()
