"""Unit tests of every incentive scheme's payout and of the leader rules of issue 5, on
hand-worked examples (ODD 7.3)."""

import numpy as np
import pytest
from omegaconf import OmegaConf

from sim.api import compose
from sim.config import ConfigError, validate
from sim.incentives import SCHEMES, make_scheme
from sim.leaders import LeaderTable, due_rows, month_net_income, review
from sim.model import GroupBuyingMarket
from tests.helpers import group_config, review_config


def _scheme(name, **kw):
    return make_scheme(group_config("incentive", "flat", scheme=name, **kw))


def test_every_scheme_has_a_config_file_and_composes():
    for name in SCHEMES:
        cfg = compose([f"incentive={name}"])
        validate(cfg)
        assert cfg.incentive.scheme == name


def test_flat_pays_only_the_commission():
    s = _scheme("flat", commission_rate=0.1)
    np.testing.assert_allclose(s.order_commission(0, np.array([30.0, 12.0])), [3.0, 1.2])
    np.testing.assert_array_equal(s.monthly_bonus(29, np.array([5000.0, 20000.0])), [0, 0])


def test_tiered_pays_the_step_up_on_the_whole_month():
    # 8% / 10% / 12% with thresholds 8,000 and 16,000 yuan a month (ODD 7.3 example).
    s = _scheme("tiered", commission_rate=0.08, tier_sales_yuan=[0.0, 8000.0, 16000.0],
                tier_extra_rates=[0.0, 0.02, 0.04])
    sales = np.array([0.0, 7999.0, 8000.0, 12000.0, 16000.0, 20000.0])
    # Step-ups: 0; 0; 2% x 8,000 = 160; 2% x 12,000 = 240; 4% x 16,000 = 640; 4% x 20,000 = 800.
    np.testing.assert_allclose(s.monthly_bonus(29, sales), [0, 0, 160, 240, 640, 800])
    # With the 8% per order, a 12,000-yuan month earns 12,000 x 10% = 1,200 in all.
    assert s.order_commission(0, np.array([12000.0]))[0] + 240 == pytest.approx(1200.0)


def test_target_bonus_is_one_target_everywhere():
    s = _scheme("target_bonus", target_sales_yuan=10000.0, target_bonus_yuan=200.0)
    sales = np.array([9999.0, 10000.0, 30000.0, 4000.0])
    ratio = np.array([1.0, 1.0, 3.0, 0.4])  # potential is ignored
    np.testing.assert_array_equal(s.monthly_bonus(29, sales, ratio), [0, 200, 200, 0])


def test_differentiated_target_scales_with_potential_and_is_clipped():
    s = _scheme("differentiated_target", target_sales_yuan=10000.0, target_bonus_yuan=200.0,
                target_scale_min=0.25, target_scale_max=4.0)
    # Targets: 10,000 x [0.4, 1, 3, 0.1 -> 0.25, 10 -> 4] = 4,000 / 10,000 / 30,000 / 2,500 / 40,000
    ratio = np.array([0.4, 1.0, 3.0, 0.1, 10.0])
    np.testing.assert_allclose(s.targets(ratio, 5), [4000, 10000, 30000, 2500, 40000])
    sales = np.array([4000.0, 9999.0, 29000.0, 2500.0, 39000.0])
    np.testing.assert_array_equal(s.monthly_bonus(29, sales, ratio), [200, 0, 0, 200, 0])


def test_multi_source_pays_the_commission_and_its_services_count_in_net_income():
    """The scheme pays flat's commission and no bonus; its service income and time are the
    community-services programme's (tests/test_services.py) and count in the month's net."""
    s = _scheme("multi_source", commission_rate=0.1)
    np.testing.assert_allclose(s.order_commission(0, np.array([30.0])), [3.0])
    np.testing.assert_array_equal(s.monthly_bonus(29, np.array([9000.0])), [0.0])
    # A leader with 300 orders (3 min each) at 10 yuan/h: 600 + 200 + commission on 9,000 yuan
    # = 1,700 yuan, less (300 x 3 + 750) min x 10/60 = 275 yuan of time: 1,425 yuan net.
    t = LeaderTable()
    t.append(active=np.array([True]), day_joined=np.array([0]),
             wage_yuan_per_hour=np.array([10.0]), minutes_per_order=np.array([3.0]),
             minutes_per_complaint=np.array([10.0]), month_income_yuan=np.array([900.0]),
             month_outside_yuan=np.array([800.0]), month_service_minutes=np.array([750.0]),
             month_orders=np.array([300]))
    lc = OmegaConf.create(dict(minutes_per_order=99.0, minutes_per_complaint=99.0))
    assert month_net_income(t, np.array([0]), lc)[0] == pytest.approx(1425.0)


def test_recognition_titles_the_top_share_by_sales():
    s = _scheme("recognition", title_share=0.25)
    sales = np.array([100.0, 900.0, 0.0, 500.0, 700.0, 800.0, 50.0, 300.0])
    # ceil(0.25 x 8) = 2 titles: the 900 and the 800.
    assert np.flatnonzero(s.title_winners(sales)).tolist() == [1, 5]
    assert not s.title_winners(np.zeros(4)).any(), "no sales, no title"
    assert s.awards_titles and not _scheme("flat").awards_titles


def test_titles_follow_the_monthly_review():
    # Leaders recruited on day 0 are first reviewed on day 30 (their month's sales are then
    # known); titles are awarded that same day, every 30 days, so the first titles come on
    # day 30 and go to leaders with sales in the month just reviewed.
    # (every gap filled on day 0, so that a day-0 cohort of leaders exists to be titled)
    model = GroupBuyingMarket(compose(["experiment=smoke", "incentive=recognition", "days=31",
                                       "leaders.recruits_per_day=100000"]))
    model.run(30)
    t = model.leaders
    assert not t.recognised[: t.n].any(), "no titles before the first review"
    model.step()  # day 30
    won = np.flatnonzero(t.recognised[: t.n])
    assert len(won) > 0 and (t.last_month_sales_yuan[won] > 0).any()


def test_bad_tiers_are_rejected_with_one_line():
    cfg = compose(["incentive=tiered", "incentive.tier_sales_yuan=[0,9000,8000]"])
    with pytest.raises(ConfigError, match=r"incentive.tier_sales_yuan=.*ascend"):
        validate(cfg)


def test_review_sums_a_multi_homing_leaders_platforms():
    # Leader 0 serves two platforms (rows 0 and 1, person 0); leader 2 one (row 2).
    lc = review_config()
    t = LeaderTable()
    t.append(home=np.array([5, 5, 7]), person=np.array([0, 0, 2]),
             platform=np.array([0, 1, 0]), active=np.array([True, True, True]),
             day_joined=np.array([0, 12, 0]),
             reservation_income_yuan=np.array([1000.0, 1000.0, 1000.0]),
             smoothed_net_income_yuan=np.array([1000.0, 0.0, 1000.0]),
             wage_yuan_per_hour=np.array([10.0, 10.0, 10.0]),
             month_income_yuan=np.array([600.0, 300.0, 600.0]),
             month_bonus_yuan=np.array([0.0, 100.0, 0.0]),
             month_orders=np.array([100, 50, 100]), month_complaints=np.array([0, 0, 0]))
    # Row 1 joined on day 12 but its month follows its leader's (joined day 0). The review on
    # day 30 comes before that day's orders: the month is days 0-29, 30 days (ODD 7.3).
    assert [due_rows(t, d, 30).tolist() for d in (0, 29, 30, 31, 42, 60)] == [
        [], [], [0, 1, 2], [], [], [0, 1, 2]]
    reviewed, quit = review(t, 30, np.array([0.99, 0.99, 0.99]), lc)
    assert reviewed.tolist() == [0, 2] and quit.tolist() == []
    net0 = 600 + 300 + 100 - 10 * 6 * 150 / 60  # 850 yuan over both platforms
    assert t.smoothed_net_income_yuan[0] == pytest.approx(0.5 * 1000 + 0.5 * net0)
    assert t.last_month_pay_yuan[1] == pytest.approx(400.0)
    assert t.month_bonus_yuan[1] == 0.0 and t.month_orders[0] == 0


def test_complaint_evaluation_pays_selling_rows_with_few_complaints():
    s = _scheme("complaint_evaluation", target_sales_yuan=1000.0, target_bonus_yuan=200.0,
                evaluation_complaints_per_order=0.05)
    sales = np.array([900.0, 1000.0, 5000.0, 5000.0, 5000.0, 5000.0])
    orders = np.array([90, 100, 500, 500, 0, 40])
    complaints = np.array([0, 5, 25, 26, 0, 2])
    # below the sales floor; 5% exactly; 5% exactly; above 5%; no orders; 5% exactly
    np.testing.assert_array_equal(s.evaluation_bonus(sales, complaints, orders),
                                  [0, 200, 200, 0, 0, 200])
    np.testing.assert_array_equal(s.monthly_bonus(29, sales), np.zeros(6))  # no target bonus
    assert s.evaluates_complaints and not _scheme("target_bonus").evaluates_complaints
    np.testing.assert_array_equal(
        _scheme("target_bonus").evaluation_bonus(sales, complaints, orders), np.zeros(6))


def test_complaint_evaluation_is_paid_at_review_from_the_months_complaints():
    from tests.helpers import SMALL

    m = GroupBuyingMarket(compose(SMALL + ["days=60", "incentive=complaint_evaluation",
                                           "incentive.target_sales_yuan=0"]))
    seen = []
    pay = m.incentives.evaluation_bonus

    def spy(platform, sales, complaints, orders):
        out = pay(platform, sales, complaints, orders)
        ok = (complaints <= 0.05 * orders) & (orders > 0)
        np.testing.assert_array_equal(out > 0, ok)
        seen.append(out.sum())
        return out

    m.incentives.evaluation_bonus = spy
    m.run()
    assert len(seen) > 0 and sum(seen) > 0
