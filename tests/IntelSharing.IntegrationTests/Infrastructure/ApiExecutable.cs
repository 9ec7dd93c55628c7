using System.Diagnostics;

namespace IntelSharing.IntegrationTests.Infrastructure;

/// <summary>What the API executable printed and returned for one run.</summary>
public sealed record ExecutableRun(int ExitCode, string Stdout, string Stderr)
{
    /// <summary>Everything it wrote, errors first.</summary>
    public string Output => Stderr + Stdout;
}

/// <summary>
/// Runs the built API executable (<c>dotnet IntelSharing.Api.dll …</c>) as an operator would, with the environment
/// given and nothing else of the test process's configuration, and waits for it to exit.
/// </summary>
public static class ApiExecutable
{
    public static async Task<ExecutableRun> RunAsync(
        IReadOnlyDictionary<string, string> environment, IReadOnlyList<string> arguments, string? workingDirectory = null, TimeSpan? within = null)
    {
        var scratch = workingDirectory is null ? Directory.CreateTempSubdirectory("intelsharing-exe-") : null;
        try
        {
            var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                WorkingDirectory = workingDirectory ?? scratch!.FullName,
            };
            start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "IntelSharing.Api.dll"));
            foreach (var argument in arguments)
            {
                start.ArgumentList.Add(argument);
            }

            // A free port, in case a command that should exit started the server instead.
            start.Environment["ASPNETCORE_URLS"] = "http://127.0.0.1:0";
            foreach (var (name, value) in environment)
            {
                start.Environment[name] = value;
            }

            using var process = Process.Start(start)!;
            var ct = TestContext.Current.CancellationToken;
            var stdout = process.StandardOutput.ReadToEndAsync(ct);
            var stderr = process.StandardError.ReadToEndAsync(ct);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(within ?? TimeSpan.FromSeconds(60));
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"'{string.Join(' ', arguments)}' did not exit within {within ?? TimeSpan.FromSeconds(60)}: it started a server instead?");
            }

            return new ExecutableRun(process.ExitCode, await stdout, await stderr);
        }
        finally
        {
            scratch?.Delete(recursive: true);
        }
    }
}
