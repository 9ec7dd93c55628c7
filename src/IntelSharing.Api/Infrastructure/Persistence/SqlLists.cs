using Dapper;

namespace IntelSharing.Api.Infrastructure.Persistence;

/// <summary>
/// Dapper's own <c>IN @list</c> expansion skips type handlers, so a list of Guids would reach SQLite as BLOBs
/// and match nothing. This adds one parameter per value (through the handlers) and returns the SQL list.
/// </summary>
public static class SqlLists
{
    /// <summary>Adds <c>@name0, @name1, …</c> to <paramref name="parameters"/> and returns <c>(@name0, @name1, …)</c>.</summary>
    public static string In<T>(DynamicParameters parameters, string name, IReadOnlyCollection<T> values)
    {
        if (values.Count == 0)
        {
            // An empty IN list is a syntax error in both dialects; this matches nothing.
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
