using Microsoft.Extensions.Options;

namespace IntelSharing.Api.Features.Statistics;

/// <summary>Bound from the <c>Statistics</c> section.</summary>
public sealed class StatisticsOptions
{
    public const string Section = "Statistics";

    /// <summary>Counts from 1 to this number minus one are suppressed in published results; 1 suppresses nothing.</summary>
    public int MinimumCellCount { get; set; } = 5;

    /// <summary>How often each instance rolls up closed days that are new or changed (ADR 40).</summary>
    public int RollupIntervalSeconds { get; set; } = 60;
}

public sealed class StatisticsOptionsValidator : IValidateOptions<StatisticsOptions>
{
    public ValidateOptionsResult Validate(string? name, StatisticsOptions options)
    {
        var failures = new List<string>();
        if (options.MinimumCellCount is < 1 or > 1000)
        {
            failures.Add($"Statistics__MinimumCellCount must be from 1 to 1000, not {options.MinimumCellCount}.");
        }

        if (options.RollupIntervalSeconds is < 1 or > 3600)
        {
            failures.Add($"Statistics__RollupIntervalSeconds must be from 1 to 3600, not {options.RollupIntervalSeconds}.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
