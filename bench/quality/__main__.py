from bench.quality import main

main()
