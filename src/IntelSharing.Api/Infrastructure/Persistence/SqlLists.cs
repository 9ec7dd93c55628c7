using Dapper;

namespace IntelSharing.Api.Infrastructure.Persistence;

/// <summary>
/// Dapper's own <c>IN @list</c> expansion skips type handlers, so a list of Guids would reach SQLite as BLOBs
/// and match nothing; and on Npgsql Dapper does not expand at all (it sends one array parameter, a syntax
/// error after IN). This adds one parameter per value (through the handlers) and returns the SQL list: use
/// it for every list, whatever the element type.
/// </summary>
public static class SqlLists
{
    /// <summary>Adds <c>@name0, @name1, …</c> to <paramref name="parameters"/> and returns <c>(@name0, @name1, …)</c>.</summary>
    public static string In<T>(DynamicParameters parameters, string name, IReadOnlyCollection<T> values)
    {
        if (values.Count == 0)
        {
            // An empty IN list is a syntax error in both dialects; this matches nothing. PostgreSQL types this
            // NULL as text, so against a uuid column skip the statement instead of passing an empty list.
            return "(SELECT NULL WHERE 1 = 0)";
        }

        var names = new string[values.Count];
        var i = 0;
        foreach (var value in values)
        {
            names[i] = $"@{name}{i}";
            parameters.Add(names[i][1..], value);
            i++;
        }

        return $"({string.Join(", ", names)})";
    }

    /// <summary>
    /// As <see cref="In{T}"/>, with the list's last value repeated up to the next power of two. Lists that vary in length
    /// make a statement of each length: each is prepared on each connection (Npgsql keeps a bounded number) and planned
    /// afresh for its first executions there. Padded, a statement has six shapes up to 32 values instead of 32; a repeated
    /// value matches nothing more. In the delivery drain, the claim's read of the rows it took had one shape per batch
    /// size, each planned on every connection (docs/benchmarks.md, "Where the machine goes in the drain").
    /// </summary>
    public static string InPadded<T>(DynamicParameters parameters, string name, IEnumerable<T> values)
    {
        var list = values.ToList();
        if (list.Count > 0)
        {
            var size = (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)list.Count);
            while (list.Count < size)
            {
                list.Add(list[^1]);
            }
        }

        return In(parameters, name, list);
    }
}
