using IntelSharing.Bench;

// bench/run.sh is the documented entry point; it builds in Release, starts PostgreSQL and calls `run`.
return args.FirstOrDefault() switch
{
    "noop-host" => await NoopHost.RunAsync(args[1..]),
    "run" => await Suite.RunAsync(SuiteOptions.Parse(args[1..])),
    // Renders a results JSON again as markdown (after a change to the report, without measuring again).
    "report" when args.Length == 3 => await Report.RewriteAsync(args[1], args[2]),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("Usage: IntelSharing.Bench run --admin-connection <npgsql> --api <IntelSharing.Api.dll> --pgbench <path> --sql <dir> --out <dir> [--quick]");
    Console.Error.WriteLine("       IntelSharing.Bench noop-host --urls http://127.0.0.1:<port>");
    Console.Error.WriteLine("       IntelSharing.Bench report <results.json> <results.md>");
    return 2;
}
