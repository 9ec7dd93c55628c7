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

    /// <summary>
    /// How far a record's <c>recorded_at</c> may lie before the newest sealed record's and still be sealed. A request's
    /// record is stamped before its transaction commits, and replicas' clocks differ a little, so the chain's times are
    /// only nearly monotonic; a record older than this was not written by a request (it was inserted directly and
    /// backdated), and the sealer refuses it.
    /// </summary>
    public int MaxRecordLagSeconds { get; set; } = 60;

    /// <summary>
    /// Base64 of 32 random bytes: the HMAC key that signs chain heads in verify answers. Optional; when absent it is
    /// derived from <c>Secrets__EncryptionKey</c>. Either way it is never stored in the database.
    /// </summary>
    public string? HeadSigningKey { get; set; }
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

        if (options.MaxRecordLagSeconds is < 1 or > 3600)
        {
            failures.Add($"Audit__MaxRecordLagSeconds must be from 1 to 3600 (seconds), not {options.MaxRecordLagSeconds}.");
        }

        if (options.HeadSigningKey is not null && !AuditHeadSigner.IsValidKey(options.HeadSigningKey))
        {
            failures.Add("Audit__HeadSigningKey must be base64 of exactly 32 bytes ('openssl rand -base64 32').");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
