using Microsoft.Extensions.Options;

namespace IntelSharing.Api.Features.WebConsole;

/// <summary>Bound from the <c>Console</c> configuration section (e.g. <c>Console__SessionMinutes</c>).</summary>
public sealed class ConsoleOptions
{
    public const string Section = "Console";

    /// <summary>
    /// How long a console session lasts from sign-in, whatever is done in it (no sliding renewal): after that the
    /// browser is sent back to the sign-in page. The key behind it is re-checked on every request regardless.
    /// </summary>
    public int SessionMinutes { get; set; } = 30;
}

public sealed class ConsoleOptionsValidator : IValidateOptions<ConsoleOptions>
{
    public ValidateOptionsResult Validate(string? name, ConsoleOptions options) =>
        options.SessionMinutes is >= 1 and <= 720
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"Console__SessionMinutes must be from 1 to 720 (12 hours), not {options.SessionMinutes}.");
}
