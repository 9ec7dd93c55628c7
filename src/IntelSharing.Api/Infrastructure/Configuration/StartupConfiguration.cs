using System.Reflection;
using Microsoft.Extensions.Options;

namespace IntelSharing.Api.Infrastructure.Configuration;

/// <summary>
/// Runs every options validation registered with <c>ValidateOnStart</c> before anything else uses the settings,
/// and turns the failures into a message an operator can act on: one line per mistake, each naming the
/// environment variable. The host would run the same validations when it starts; doing it first also covers
/// <c>bootstrap-admin</c>, and the process ends with a distinct exit code rather than an unhandled exception.
/// </summary>
public static class StartupConfiguration
{
    /// <summary>EX_CONFIG from sysexits.h: the configuration is wrong, so restarting will not help.</summary>
    public const int ExitCode = 78;

    /// <summary>
    /// Whether this program is the process's entry point. WebApplicationFactory runs Program.Main in its own
    /// process and treats a normal return as a started host, so there the failure must surface as an exception.
    /// </summary>
    public static bool OwnsProcess => Assembly.GetEntryAssembly() == typeof(StartupConfiguration).Assembly;

    /// <summary>The report of every configuration mistake, or null when there is none.</summary>
    public static string? FindMistakes(IServiceProvider services)
    {
        try
        {
            services.GetService<IStartupValidator>()?.Validate();
            return null;
        }
        catch (OptionsValidationException ex)
        {
            return Describe(ex.Failures);
        }
        catch (AggregateException ex) when (ex.InnerExceptions.All(e => e is OptionsValidationException))
        {
            return Describe(ex.InnerExceptions.Cast<OptionsValidationException>().SelectMany(e => e.Failures));
        }
    }

    private static string Describe(IEnumerable<string> failures) =>
        "IntelSharing cannot start: its configuration has mistakes.\n" +
        string.Concat(failures.Select(f => $"  - {f}\n")) +
        "Settings come from environment variables (Section__Name) or appsettings.json (Section:Name); README.md lists them.";
}
