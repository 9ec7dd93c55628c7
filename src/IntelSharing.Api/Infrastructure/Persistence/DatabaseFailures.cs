using System.Data.Common;
using System.Net.Sockets;

namespace IntelSharing.Api.Infrastructure.Persistence;

/// <summary>Tells a database that cannot be reached (answered with 503 and Retry-After) from a failed statement (a bug or a bad row).</summary>
public static class DatabaseFailures
{
    public static bool IsUnavailable(Exception exception)
    {
        // A socket error or a timeout means the database is unreachable only inside a database exception: a regex
        // timeout (RegexMatchTimeoutException is a TimeoutException) or any other component's timeout is a bug, a 500.
        var insideDatabaseError = false;
        for (var current = exception; current is not null; current = current.InnerException)
        {
            switch (current)
            {
                case var _ when SqlDialect.All.Any(dialect => dialect.IsUnavailable(current)):
                    return true;
                case DbException when current.Message.Contains("the database system is", StringComparison.Ordinal):
                    return true;
                case SocketException or TimeoutException when insideDatabaseError:
                    return true;
            }

            insideDatabaseError |= current is DbException;
        }

        return false;
    }

    /// <summary>
    /// PostgreSQL aborted the transaction because of what ran beside it (a deadlock, a serialization failure): the
    /// database is up, and the same writes alone in their own transactions succeed.
    /// </summary>
    public static bool IsConflictWithOtherTransactions(Exception exception) =>
        SqlDialect.All.Any(dialect => dialect.IsConflictWithOtherTransactions(exception));
}
