using Microsoft.Extensions.Options;

namespace IntelSharing.Api.Features.Alerts;

/// <summary>Bound from the <c>Search</c> configuration section (<c>Search__TimeoutMilliseconds</c>, <c>Search__SqliteWalkFromMatches</c>); docs/search.md.</summary>
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

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
