using IntelSharing.Bench;

// bench/run.sh is the documented entry point; it builds in Release, starts PostgreSQL and calls `run`.
return args.FirstOrDefault() switch
{
    "noop-host" => await NoopHost.RunAsync(args[1..]),
    "run" => await Suite.RunAsync(SuiteOptions.Parse(args[1..])),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("Usage: IntelSharing.Bench run --admin-connection <npgsql> --api <IntelSharing.Api.dll> --pgbench <path> --sql <dir> --out <dir> [--quick]");
    Console.Error.WriteLine("       IntelSharing.Bench noop-host --urls http://127.0.0.1:<port>");
    return 2;
}
