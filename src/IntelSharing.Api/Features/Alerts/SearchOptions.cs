using Microsoft.Extensions.Options;

namespace IntelSharing.Api.Features.Alerts;

/// <summary>Bound from the <c>Search</c> configuration section (<c>Search__TimeoutMilliseconds</c>, <c>Search__SqliteWalkFromMatches</c>, <c>Search__SqliteMaxAlertsWalked</c>, <c>Search__RelevanceCandidates</c>); docs/search.md.</summary>
public sealed class SearchOptions
{
    public const string Section = "Search";

    /// <summary>
    /// The most time PostgreSQL may spend on one <c>q=</c> search (its <c>statement_timeout</c>, lock waits included). A
    /// search reads alerts newest first until it has a page (ADR 35); one whose matches are old, or hidden from the caller,
    /// may read far before it does. Past this bound it is answered 503 and the connection is free for others again.
    /// SQLite has no statement timeout.
    /// </summary>
    public int TimeoutMilliseconds { get; set; } = 2000;

    /// <summary>
    /// SQLite only: from how many matching alerts a search walks the alerts newest first, testing each row's words, rather
    /// than sorting the matches FTS5 returns (ADR 35). FTS5 gives SQLite's planner no estimate, so the application counts
    /// the matches up to this number and chooses. PostgreSQL's planner chooses from its statistics.
    /// </summary>
    public int SqliteWalkFromMatches { get; set; } = 1_000;

    /// <summary>
    /// SQLite only: the most alerts the caller may see that one page of a walk newest first reads (ADR 41). SQLite has no
    /// statement timeout, so a walk whose words occur only in alerts left out by the filters would otherwise read the whole
    /// store; past this many it answers the page found so far with a <c>nextCursor</c> that continues from there. Counted
    /// over the alerts the caller may see only, so where a page ends never depends on alerts hidden from it.
    /// </summary>
    public int SqliteMaxAlertsWalked { get; set; } = 5_000;

    /// <summary>
    /// <c>sort=relevance</c>: how many matches, the newest the caller may see, are ranked (ADR 41). A broad word costs a walk
    /// of this many matches, not of every match; a narrower search ranks all of its matches.
    /// </summary>
    public int RelevanceCandidates { get; set; } = 200;
}

public sealed class SearchOptionsValidator : IValidateOptions<SearchOptions>
{
    public ValidateOptionsResult Validate(string? name, SearchOptions options)
    {
        var failures = new List<string>();
        if (options.TimeoutMilliseconds is < 50 or > 60_000)
        {
            failures.Add($"Search__TimeoutMilliseconds must be from 50 to 60000 (milliseconds), not {options.TimeoutMilliseconds}.");
        }

        if (options.SqliteWalkFromMatches is < 1 or > 1_000_000)
        {
            failures.Add($"Search__SqliteWalkFromMatches must be from 1 to 1000000 (alerts), not {options.SqliteWalkFromMatches}.");
        }

        if (options.SqliteMaxAlertsWalked is < 1 or > 1_000_000)
        {
            failures.Add($"Search__SqliteMaxAlertsWalked must be from 1 to 1000000 (alerts), not {options.SqliteMaxAlertsWalked}.");
        }

        if (options.RelevanceCandidates is < 1 or > 5_000)
        {
            failures.Add($"Search__RelevanceCandidates must be from 1 to 5000 (alerts), not {options.RelevanceCandidates}.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
