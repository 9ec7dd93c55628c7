using Microsoft.Extensions.Options;

namespace IntelSharing.Api.Features.Alerts;

/// <summary>Bound from the <c>Search</c> configuration section (<c>Search__TimeoutMilliseconds</c>); docs/search.md.</summary>
public sealed class SearchOptions
{
    public const string Section = "Search";

    /// <summary>
    /// The most time PostgreSQL may spend on one <c>q=</c> search (its <c>statement_timeout</c>, lock waits included). A
    /// search over words that match most of a large store ranks every match; past this bound it is answered 503 and the
    /// connection is free for others again. SQLite has no statement timeout: there the cost is bounded by the word limits only.
    /// </summary>
    public int TimeoutMilliseconds { get; set; } = 2000;
}

public sealed class SearchOptionsValidator : IValidateOptions<SearchOptions>
{
    public ValidateOptionsResult Validate(string? name, SearchOptions options) =>
        options.TimeoutMilliseconds is < 50 or > 60_000
            ? ValidateOptionsResult.Fail($"Search__TimeoutMilliseconds must be from 50 to 60000 (milliseconds), not {options.TimeoutMilliseconds}.")
            : ValidateOptionsResult.Success;
}
