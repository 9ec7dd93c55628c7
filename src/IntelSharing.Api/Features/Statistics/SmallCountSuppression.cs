namespace IntelSharing.Api.Features.Statistics;

/// <summary>
/// Small-count suppression of one group of cells and the total published for it (docs/statistics.md):
/// <list type="number">
/// <item>primary: a count from 1 to <c>threshold − 1</c> is suppressed (zero is shown: it identifies no case);</item>
/// <item>complementary: when exactly one cell of the group is suppressed and the total is shown, the total minus the
/// other cells would give it back, so the smallest other non-zero cell is suppressed too; when there is none, the
/// total is suppressed instead;</item>
/// <item>a total under the threshold is suppressed (every cell of it is then under the threshold as well).</item>
/// </list>
/// </summary>
public static class SmallCountSuppression
{
    public static (long?[] Cells, long? Total) Apply(IReadOnlyList<long> cells, long total, int threshold)
    {
        var shown = cells.Select(c => Suppressed(c, threshold) ? (long?)null : c).ToArray();
        long? shownTotal = Suppressed(total, threshold) ? null : total;
        if (shownTotal is not null && shown.Count(c => c is null) == 1)
        {
            var partner = Enumerable.Range(0, shown.Length)
                .Where(i => shown[i] is > 0)
                .OrderBy(i => shown[i])
                .Select(i => (int?)i)
                .FirstOrDefault();
            if (partner is { } index)
            {
                shown[index] = null;
            }
            else
            {
                shownTotal = null;
            }
        }

        return (shown, shownTotal);
    }

    private static bool Suppressed(long count, int threshold) => count > 0 && count < threshold;
}
