using Microsoft.Extensions.Options;

namespace IntelSharing.Api.Infrastructure.Audit;

/// <summary>Bound from the <c>Audit</c> configuration section (<c>Audit__SealIntervalSeconds</c>, <c>Audit__SealBatchSize</c>).</summary>
public sealed class AuditOptions
{
    public const string Section = "Audit";

    /// <summary>How often each instance's sealer links new records into the chain.</summary>
    public int SealIntervalSeconds { get; set; } = 5;

    /// <summary>Records sealed per transaction; a larger batch holds the chain lock longer.</summary>
    public int SealBatchSize { get; set; } = 500;
}

public sealed class AuditOptionsValidator : IValidateOptions<AuditOptions>
{
    public ValidateOptionsResult Validate(string? name, AuditOptions options)
    {
        var failures = new List<string>();
        if (options.SealIntervalSeconds is < 1 or > 3600)
        {
            failures.Add($"Audit__SealIntervalSeconds must be from 1 to 3600 (seconds), not {options.SealIntervalSeconds}.");
        }

        if (options.SealBatchSize is < 1 or > 5000)
        {
            failures.Add($"Audit__SealBatchSize must be from 1 to 5000, not {options.SealBatchSize}.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
