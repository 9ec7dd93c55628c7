using FluentValidation;

namespace IntelSharing.Api.Infrastructure.Validation;

/// <summary>
/// Bounds on lists in request bodies. A list over its limit gets one error, for its length, and no element rule
/// runs: otherwise 150,000 bad country codes made 150,000 errors (a 16 MB answer and a 3 MB audit record from a
/// 750 KB request). Validators state the length rule with <see cref="AtMost{T, TElement}"/> and put their element
/// rules inside <c>When(x =&gt; ListRules.IsWithin(x.List, Max), () =&gt; RuleForEach(…))</c>.
/// </summary>
public static class ListRules
{
    /// <summary>True when <paramref name="list"/> is absent or short enough for its elements to be checked one by one.</summary>
    public static bool IsWithin<TElement>(IReadOnlyCollection<TElement>? list, int max) => list is null || list.Count <= max;

    /// <summary>"At most <paramref name="max"/> <paramref name="noun"/>." for a list that may be absent.</summary>
    public static IRuleBuilderOptions<T, IReadOnlyList<TElement>?> AtMost<T, TElement>(
        this IRuleBuilder<T, IReadOnlyList<TElement>?> rule, int max, string noun) =>
        rule.Must(list => IsWithin(list, max)).WithMessage($"At most {max} {noun}.");

    /// <summary>No element twice; meant after <see cref="AtMost{T, TElement}"/> with <c>Cascade(CascadeMode.Stop)</c>, so it never hashes an oversized list.</summary>
    public static IRuleBuilderOptions<T, IReadOnlyList<TElement>?> Unique<T, TElement>(
        this IRuleBuilder<T, IReadOnlyList<TElement>?> rule, string plural) =>
        rule.Must(list => list is null || list.Distinct().Count() == list.Count).WithMessage($"{plural} must not repeat.");
}
