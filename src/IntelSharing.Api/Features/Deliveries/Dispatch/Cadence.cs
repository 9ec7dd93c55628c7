using System.Diagnostics;

namespace IntelSharing.Api.Features.Deliveries.Dispatch;

/// <summary>
/// Housekeeping in the dispatcher's loop that runs at most once per <paramref name="every"/>, paced by the machine's
/// clock, not the TimeProvider: cadence, not schedule time. Due at once the first time.
/// </summary>
internal sealed class Cadence(TimeSpan every)
{
    private long _ranAt;

    /// <summary>True, and the next run is counted from now, when the interval has passed since the last run.</summary>
    public bool Due()
    {
        var now = Stopwatch.GetTimestamp();
        if (_ranAt != 0 && Stopwatch.GetElapsedTime(_ranAt, now) < every)
        {
            return false;
        }

        _ranAt = now;
        return true;
    }
}
