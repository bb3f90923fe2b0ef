// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Node.Pool;

namespace Nexus.Node.Tests;

/// <summary>
/// The invoke budget's late charges (<see cref="InvokeBudget.LateCharges"/>): CPU an invocation's flow is charged after
/// its Exit reaches the function's account, as far as it takes the invocation past the least charge Exit billed.
/// </summary>
public sealed class InvokeBudgetTests
{
    private static readonly TimeSpan s_least = TimeSpan.FromMilliseconds(1);

    [Fact]
    public async Task Late_pieces_are_charged_beyond_the_least_charge_only()
    {
        var budget = new InvokeBudget(TimeProvider.System);
        await budget.EnterAsync("f", rateCpus: 1, default);
        budget.Exit("f", s_least);
        var late = budget.LateCharges("f", s_least)!;

        // Still below the least charge, which Exit billed: nothing more.
        late.ChargeLate(Ms(0.2), Ms(0.8));
        Assert.Equal(Ms(1), budget.Totals("f").Charged);

        // Across it: the part above it.
        late.ChargeLate(Ms(0.8), Ms(1.5));
        Assert.Equal(Ms(1.5), budget.Totals("f").Charged);

        // Above it: all of it.
        late.ChargeLate(Ms(1.5), Ms(3.5));
        Assert.Equal(Ms(3.5), budget.Totals("f").Charged);
    }

    [Fact]
    public void A_function_never_entered_has_no_account_to_charge()
    {
        Assert.Null(new InvokeBudget(TimeProvider.System).LateCharges("never", s_least));
    }

    private static TimeSpan Ms(double milliseconds) => TimeSpan.FromMilliseconds(milliseconds);
}
