import pytest


@pytest.fixture
def grid(world):
    """The test world plus a few more customers with different contact preferences on TQ0001/TQ0002."""
    from gridcare.customers.models import Customer

    w = world
    w.cust_wechat = Customer.objects.create(account_no="3100000003", name="微信用户", customer_class="residential",
                                            unit=w.station_a, transformer_area=w.taiqu_a, address="城关镇人民路3号",
                                            area_kind="urban", phone="13900000003", notify_wechat=True)
    w.cust_email = Customer.objects.create(account_no="3100000004", name="邮件用户", customer_class="residential",
                                           unit=w.station_a, transformer_area=w.taiqu_a2, address="城关镇人民路4号",
                                           area_kind="urban", phone="0571-88880004", email="user4@example.cn")
    w.cust_optout = Customer.objects.create(account_no="3100000005", name="不接收短信", customer_class="residential",
                                            unit=w.station_a, transformer_area=w.taiqu_a2, address="城关镇人民路5号",
                                            area_kind="urban", phone="13900000005", notify_sms=False)
    return w
