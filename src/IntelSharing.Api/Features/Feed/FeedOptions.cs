using Microsoft.Extensions.Options;

namespace IntelSharing.Api.Features.Feed;

/// <summary>Bound from the <c>Feed</c> configuration section (<c>Feed__HeartbeatSeconds</c>, …); docs/feed.md.</summary>
public sealed class FeedOptions
{
    public const string Section = "Feed";

    /// <summary>How long an idle event stream waits before it sends a comment line, so proxies and clients see it is alive.</summary>
    public int HeartbeatSeconds { get; set; } = 15;

    /// <summary>Event streams one agency may hold open at once on one instance; one more is answered 429.</summary>
    public int MaxStreamsPerAgency { get; set; } = 4;

    /// <summary>The sequencer's backstop: it positions committed changes at least this often even when no notice reached it.</summary>
    public int SequencerPollMilliseconds { get; set; } = 1000;

    /// <summary>Changes positioned per sequencer transaction.</summary>
    public int SequencerBatchSize { get; set; } = 1000;
}

public sealed class FeedOptionsValidator : IValidateOptions<FeedOptions>
{
    public ValidateOptionsResult Validate(string? name, FeedOptions options)
    {
        var failures = new List<string>();
        if (options.HeartbeatSeconds is < 1 or > 300)
        {
            failures.Add($"Feed__HeartbeatSeconds must be from 1 to 300 (seconds), not {options.HeartbeatSeconds}.");
        }

        if (options.MaxStreamsPerAgency is < 1 or > 100)
        {
            failures.Add($"Feed__MaxStreamsPerAgency must be from 1 to 100, not {options.MaxStreamsPerAgency}.");
        }

        if (options.SequencerPollMilliseconds is < 50 or > 60_000)
        {
            failures.Add($"Feed__SequencerPollMilliseconds must be from 50 to 60000 (milliseconds), not {options.SequencerPollMilliseconds}.");
        }

        if (options.SequencerBatchSize is < 1 or > 10_000)
        {
            failures.Add($"Feed__SequencerBatchSize must be from 1 to 10000, not {options.SequencerBatchSize}.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
