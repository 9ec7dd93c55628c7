using System.Globalization;
using FluentValidation;
using IntelSharing.Api.Infrastructure.Persistence;

namespace IntelSharing.Api.Infrastructure.Validation;

/// <summary>
/// The checks of <see cref="KeysetPaging"/>, for a list's validator to <c>Include</c>: <c>limit</c> a whole number
/// within bounds, and <c>cursor</c> one this API issued for this list and these filters (not malformed, not tampered
/// with, not from another list). Each mistake is a 400 naming the parameter.
/// </summary>
public sealed class PageRules<T> : AbstractValidator<T>
    where T : IPagedQuery
{
    /// <summary>Longer than any cursor the API issues (a search ranked by relevance has the longest, 135 characters); a longer one is not worth decoding.</summary>
    public const int MaxCursorLength = 200;

    public PageRules(KeysetCursor cursors, Func<T, bool>? ranked = null, Func<T, bool>? windowed = null)
    {
        RuleFor(q => q.Limit)
            .Must(l => int.TryParse(l, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is >= 1 and <= KeysetPaging.MaxLimit)
            .When(q => q.Limit is not null)
            .WithMessage($"limit must be a whole number from 1 to {KeysetPaging.MaxLimit}.");
        RuleFor(q => q.Cursor)
            .Cascade(CascadeMode.Stop)
            .MaximumLength(MaxCursorLength).WithMessage("The cursor is not one this API issued.")
            .Custom((cursor, context) =>
            {
                if (cursors.TryDecode(cursor!, context.InstanceToValidate.CursorScope, out _, ranked?.Invoke(context.InstanceToValidate) ?? false, windowed?.Invoke(context.InstanceToValidate) ?? false) is { } error)
                {
                    context.AddFailure("cursor", error);
                }
            })
            .When(q => q.Cursor is not null);
    }
}
