using FaceNetGen.Models;
using FaceNetGen.Specs;

namespace FaceNetGen.Tests.ModelTests;

/// <summary>
/// The 1×1 convolutions that read one inception module's input run as one call in Forward (at the first of them) and
/// take their data gradients as one call in Backward (after the last of them): the planner must find them in both
/// orders, as runs of adjacent ops.
/// </summary>
public class SiblingGroupTests
{
    [Theory]
    [MemberData(nameof(InferenceArenaTests.Specs), MemberType = typeof(InferenceArenaTests))]
    public void Each_modules_1x1_convolutions_of_its_input_form_one_group_in_both_orders(string name)
    {
        var plan = SpecAnalyzer.Compile(BuiltInSpecs.GetText(name)!).Model!.Plan;
        var ops = plan.Ops;
        // Expected, from the ops alone: per tensor, its 1×1 stride-1 unpadded readers (two or more).
        var expected = plan.Tensors
            .Select(t => ops.Select((op, i) => (op, i)).Where(p => p.op is ConvOp c && c.Input == t.Id && c.KernelH == 1 && c.KernelW == 1 && c.StrideH == 1 && c.PadH == 0).Select(p => p.i).OrderBy(i => i).ToArray())
            .Where(g => g.Length >= 2)
            .Select(g => string.Join(",", g))
            .OrderBy(s => s, StringComparer.Ordinal)
            .ToList();
        foreach (var (orderName, order) in new[] { ("forward", plan.ForwardOrder.ToArray()), ("backward", plan.BackwardOrder.ToArray()) })
        {
            var groups = Siblings.Groups(ops, order, plan.OutputTensor);
            foreach (var g in groups)
            {
                Assert.Equal(Enumerable.Range(g[0], g.Length), g);
                Assert.Single(g.Select(k => ops[order[k]].Inputs[0]).Distinct());
            }
            var found = groups.Select(g => string.Join(",", g.Select(k => order[k]).OrderBy(i => i))).OrderBy(s => s, StringComparer.Ordinal).ToList();
            Assert.True(expected.SequenceEqual(found), $"{name} {orderName}: groups {string.Join(" | ", found)}, expected {string.Join(" | ", expected)}");
        }
        // Every module from 3a on has some: 3c, 4e (NN2 only: NN4's has no 5×5 branch) and the 3×3-map modules of NN4
        // have two, the others three.
        if (name == "NN2") Assert.Equal(10, expected.Count);
        if (name == "NN4") Assert.Equal(9, expected.Count);
    }
}
