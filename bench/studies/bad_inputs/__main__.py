from bench.studies.bad_inputs.sweep import main

raise SystemExit(main())
