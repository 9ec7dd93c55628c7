using System.Text;
using Dapper;

namespace IntelSharing.Api.Infrastructure.Persistence;

/// <summary>
/// A request for one page of a list: the cursor it resumes from, the page size it asks for, and what the cursor is
/// bound to. Every list of the API implements it, so every list pages by the same rule (<see cref="KeysetPaging"/>).
/// </summary>
public interface IPagedQuery
{
    /// <summary>The <c>nextCursor</c> of the previous page, as the client sent it; null for the first page.</summary>
    string? Cursor { get; }

    /// <summary>The <c>limit</c> parameter as text, so that the validator names a mistake in it; null for the default.</summary>
    string? Limit { get; }

    /// <summary>
    /// The list and the filters a cursor is bound to, the list's own name first: a cursor issued for another list, or
    /// for the same list with other filters, is refused (400 naming <c>cursor</c>) instead of serving a different page.
    /// </summary>
    string CursorScope { get; }
}

/// <summary>A key of a listing's order: the column and which part of a <see cref="KeysetCursor.Position"/> holds its value.</summary>
public readonly record struct KeysetKey(string Column, KeysetField Field, bool Descending = false);

/// <summary>The part of a <see cref="KeysetCursor.Position"/> a <see cref="KeysetKey"/> takes its value from.</summary>
public enum KeysetField
{
    Rank,
    At,
    Id,
}

/// <summary>
/// The order of a listing: its keys, most significant first, ending with a unique one. It writes the ORDER BY and the
/// condition that resumes strictly after a position, so no list writes its own keyset comparison.
/// </summary>
public sealed class KeysetOrder(params KeysetKey[] keys)
{
    /// <summary>Whether the order starts from a rank, which the cursor then carries (<see cref="KeysetCursor"/> format 2).</summary>
    public bool IsRanked { get; } = keys.Any(k => k.Field == KeysetField.Rank);

    public string OrderBy { get; } = string.Join(", ", keys.Select(k => k.Descending ? k.Column + " DESC" : k.Column));

    /// <summary>The rows strictly after <paramref name="position"/> in this order, as a lexicographic comparison of the keys.</summary>
    public string After(DynamicParameters parameters, KeysetCursor.Position position)
    {
        var condition = new StringBuilder();
        for (var i = keys.Length - 1; i >= 0; i--)
        {
            var key = keys[i];
            var parameter = "@page" + key.Field;
            var beyond = $"{key.Column} {(key.Descending ? "<" : ">")} {parameter}";
            condition = condition.Length == 0
                ? new StringBuilder(beyond)
                : new StringBuilder($"({beyond} OR ({key.Column} = {parameter} AND {condition}))");
            switch (key.Field)
            {
                case KeysetField.Rank:
                    parameters.Add("pageRank", position.Rank ?? 0);
                    break;
                case KeysetField.At:
                    parameters.Add("pageAt", position.At);
                    break;
                default:
                    parameters.Add("pageId", position.Id);
                    break;
            }
        }

        if (keys.Length > 1)
        {
            // The same rows, with the first key's bound stated on its own: the lexicographic OR is no index range for
            // PostgreSQL, this is, so a page deep in a walk starts at its place in the index instead of at the top.
            var first = keys[0];
            condition.Insert(0, $"{first.Column} {(first.Descending ? "<=" : ">=")} @page{first.Field} AND ");
        }

        return condition.ToString();
    }
}

/// <summary>
/// The one paging rule of every list (docs/integrators.md, "Lists"): <c>{items, nextCursor}</c>, <c>limit</c> from 1
/// to <see cref="MaxLimit"/> (default <see cref="DefaultLimit"/>), and an opaque keyset cursor: pass <c>nextCursor</c>
/// back as <c>cursor</c> with the same filters; null means the list is done. Keyset, never offset: a row written or
/// removed between two pages neither repeats nor hides another. The validators check the cursor
/// (<see cref="Validation.PageRules{T}"/>), so a handler only reads it.
/// </summary>
public sealed class KeysetPaging(KeysetCursor cursors)
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 200;

    /// <summary>The page size asked for; valid only after validation.</summary>
    public static int Take(IPagedQuery query) => query.Limit is null ? DefaultLimit : int.Parse(query.Limit, System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// Appends to a query whose WHERE clause is open: the condition that resumes after the cursor (when there is one),
    /// the order and a LIMIT one beyond the page, so that <see cref="Cut{T}"/> knows whether another page follows.
    /// </summary>
    public void Append(StringBuilder sql, DynamicParameters parameters, IPagedQuery query, KeysetOrder order)
    {
        if (PositionOf(query, order.IsRanked) is { } position)
        {
            sql.Append(" AND ").Append(order.After(parameters, position));
        }

        sql.Append(" ORDER BY ").Append(order.OrderBy).Append(" LIMIT @pageTake");
        parameters.Add("pageTake", Take(query) + 1);
    }

    /// <summary>Where the query's cursor resumes (checked by the validator already), or null for a first page.</summary>
    public KeysetCursor.Position? PositionOf(IPagedQuery query, bool ranked = false, bool windowed = false)
    {
        if (query.Cursor is null)
        {
            return null;
        }

        var error = cursors.TryDecode(query.Cursor, query.CursorScope, out var position, ranked, windowed);
        if (error is not null)
        {
            // The validator refused this cursor already; reaching here means a list skipped its PageRules.
            throw new InvalidOperationException($"A cursor reached the handler unchecked: {error}");
        }

        return position;
    }

    /// <summary>The cursor that resumes <paramref name="query"/> after <paramref name="position"/>, for a list that cuts its own pages.</summary>
    public string CursorAfter(KeysetCursor.Position position, IPagedQuery query) => cursors.Encode(position, query.CursorScope);

    /// <summary>The page out of rows read with <see cref="Append"/>, and the cursor of the next page when there is one.</summary>
    public (List<T> Items, string? NextCursor) Cut<T>(List<T> rows, IPagedQuery query, Func<T, KeysetCursor.Position> positionOf)
    {
        var take = Take(query);
        if (rows.Count <= take)
        {
            return (rows, null);
        }

        var page = rows.GetRange(0, take);
        return (page, cursors.Encode(positionOf(page[^1]), query.CursorScope));
    }
}
