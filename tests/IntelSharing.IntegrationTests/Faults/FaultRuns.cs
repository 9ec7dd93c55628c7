namespace IntelSharing.IntegrationTests.Faults;

/// <summary>
/// The crash and fault suite runs in two sizes: a reduced form in every test run (CI), sized to be reliable on
/// a loaded two-core machine, and the full form with INTELSHARING_FAULT_FULL=1 (bench/faults.sh). Both run
/// alone, after the parallel tests, so that killing processes, stopping PostgreSQL and timing delivery do not
/// compete with the rest of the suite.
/// </summary>
public static class FaultRuns
{
    public static bool Full => Environment.GetEnvironmentVariable("INTELSHARING_FAULT_FULL") == "1";

    /// <summary>The reduced or the full value.</summary>
    public static T Size<T>(T reduced, T full) => Full ? full : reduced;

    public static void Report(string message)
    {
        TestContext.Current.SendDiagnosticMessage(message);
        TestContext.Current.TestOutputHelper?.WriteLine(message);
    }
}

[CollectionDefinition(nameof(FaultCollection), DisableParallelization = true)]
public sealed class FaultCollection;
