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
}
