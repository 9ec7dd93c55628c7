using Microsoft.Extensions.Options;

namespace IntelSharing.Api.Features.Statistics;

/// <summary>Bound from the <c>Statistics</c> section.</summary>
public sealed class StatisticsOptions
{
    public const string Section = "Statistics";

    /// <summary>Counts from 1 to this number minus one are suppressed in published results; 1 suppresses nothing.</summary>
    public int MinimumCellCount { get; set; } = 5;
}

public sealed class StatisticsOptionsValidator : IValidateOptions<StatisticsOptions>
{
    public ValidateOptionsResult Validate(string? name, StatisticsOptions options) =>
        options.MinimumCellCount is >= 1 and <= 1000
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"Statistics__MinimumCellCount must be from 1 to 1000, not {options.MinimumCellCount}.");
}
