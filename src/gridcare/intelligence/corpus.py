"""GridCare's own labelled corpus of 95598 order texts, built deterministically from phrase tables.

Two families of phrase tables are kept strictly apart:

* ``TRAIN`` — the core phrases, openers, demands, places and noise the classifier is trained on;
* ``HELDOUT`` — core phrases written separately (other wording, other sentence shapes), other openers,
  other demands, other place names, other channel formats. The benchmark's accuracy figure is measured
  on texts generated only from ``HELDOUT``; no held-out phrase is a copy of a training phrase (a test
  checks it), so the figure says how the model does on phrasings it never saw.

A text is ``opener + core + demand`` with slots ({place}, {n}, …) filled and noise applied (typing
errors of pinyin input, fillers, dialect words, dropped punctuation). Styles: a caller's own words, an
agent's summary (客户来电反映…), an app or WeChat submission. Confusable pairs are written on purpose:
complaint vs opinion on the same subject, a current outage (故障报修) vs frequent outages (投诉) vs an
unannounced planned outage (投诉) vs a question about when power returns (咨询).

Label keys are ``order_type/sub``: ``sub`` is the complaint's second-level code, the fault kind, or
(for other types) a topic that only gives the texts variety.
"""
from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass

from gridcare.core.taxonomy import category_parent


@dataclass(frozen=True)
class Sample:
    text: str
    order_type: str
    category_l1: str
    category_l2: str
    fault_kind: str


def labels_of(key: str) -> tuple[str, str, str, str]:
    order_type, _, sub = key.partition("/")
    if order_type == "complaint":
        return order_type, category_parent(sub) or "", sub, ""
    if order_type == "fault_repair":
        return order_type, "", "", sub
    return order_type, "", "", ""


# ================================================================================================ TRAIN
TRAIN = {
    "places": ["幸福小区", "和平村", "东方花园", "城南新村", "建设路", "枫林湾小区", "李家庄", "向阳街", "滨江苑",
               "红星村三组", "工业园", "老街菜市场旁边", "桂花苑5栋", "张湾村", "新华路口", "锦绣家园"],
    "appliances": ["空调", "冰箱", "热水器", "洗衣机", "电饭锅", "水泵", "电视", "电磁炉"],
    "persons": ["工作人员", "供电所的人", "那个师傅", "营业员", "接电话的人", "那个女的"],
    "openers": {
        "caller": [
            "我要反映一下，", "麻烦问一下，", "打扰了，", "我说一下情况，","", "", "喂，", "你好，", "我跟你说，", "是这样的，", "我想反映个事，", "麻烦你听我说，"],
        "agent": [
            "客户致电称", "来电人反映，", "客户通过95598反映：", "坐席记录：", "客户来电诉求：","客户来电反映：", "客户反映", "来电人称", "客户来电称", "客户表示，", "用户来电："],
        "app": [
            "（App）", "[网上国网留言]", "网上国网诉求：","【网上国网】", "App留言：", "微信留言：", "网上提交："],
    },
    "demands": {
        "complaint": [
            "强烈要求处理，我要投诉。", "要求供电公司领导出面解决。", "请你们领导给个答复。", "不解决我就一直打。", "要求有关部门严肃处理。", "客户要求投诉并尽快回复。", "客户对此很不满意，要求投诉。", "要求相关责任人道歉。", "这种服务太差了，投诉！", "请上级督促解决。", "要求严肃追责并书面回复。", "客户很气愤，坚持要投诉处理。","我要投诉！", "要求给个说法。", "必须严肃处理相关人员。", "我要投诉你们。", "要求赔偿损失。",
                      "你们必须给我一个交代。", "对此非常不满，要求处理。", "要求追究责任。", "坚决要投诉。"],
        "opinion": [
            "只是提个意见，希望以后改进。", "客户提出意见，不要求处理。", "反映一下，希望改进服务。", "就是想提提意见。","提个意见，希望改进。", "不是要投诉，就是反映一下。", "希望你们重视一下。", "提点意见，不用回复。",
                    "希望改进一下，不投诉。", "算是提个意见吧。"],
        "fault_repair": [
            "请派抢修的来看看。", "请尽快安排人员处理。", "请马上派人。", "赶紧来修一下吧。", "请速来处理。","请赶紧派人来修。", "麻烦尽快过来看看。", "快来人处理一下吧。", "请派人来检查。",
                         "请尽快抢修。", ""],
        "inquiry": [
            "请给解答一下。", "客户想了解一下。", "帮忙查询一下。","想问一下。", "麻烦帮我查查。", "请告诉我一下。", "想咨询一下。", ""],
        "service_request": [
            "客户要求办理。", "请安排人员办理。", "请受理一下。","请帮我办理。", "麻烦给办一下。", "需要准备什么你们说。", ""],
        "report": [
            "请安排人核查。", "请依法处理。", "请相关部门查处。","我要举报。", "请你们去查一查。", "希望严肃查处。", "举报人要求保密。"],
        "suggestion": [
            "客户给个建议。", "仅作建议。","这是我的建议。", "建议你们考虑一下。", "供参考。", ""],
        "praise": [
            "客户打电话来表扬。", "太感谢你们了。", "非常满意。","特此表扬！", "一定要表扬一下他们。", "谢谢你们！", "点个赞。"],
    },
    "cores": {
        # ---------------------------------------------------------------- complaints
        "complaint/frequent_outage": [
            "{place}一个月里断了{n}次电，日子没法过", "{place}停电成了家常便饭，说了多少次都不管用", "{place}最近一段时间停电次数太多，一次比一次久", "这周{place}已经第{n}次停电了，到底怎么回事", "{place}的电老是断，修了又坏修了又坏",
            "{place}三天两头停电，这个月都停了{n}次了",
            "我们那儿隔三差五就停电，一个月停了{n}回",
            "{place}最近老是停电，白天停晚上也停",
            "这两个月{place}已经停电{n}次，冰箱里的东西都坏了",
            "{place}动不动就停电，反映了好几次都没解决",
            "我家这边经常停电，一停好几个小时，孩子都没法写作业",
            "{place}停电太频繁了，一个星期停两三次",
            "最近{place}频繁停电，做生意的损失很大",
            "{place}又停电了，这已经是本月第{n}次了",
            "俺们村老停电，修好没两天又停",
        ],
        "complaint/voltage": [
            "{place}的电压低了快半年了，{appliance}根本用不了", "{place}电压问题反映过很多次，一直不解决", "{place}晚上电压低到灯都发红，长期如此", "我家这边电压不够，{appliance}经常烧坏，都好几台了", "{place}电压波动大，持续很长时间了",
            "{place}电压长期偏低，晚上灯光昏暗，{appliance}开不起来",
            "我家电压一直不稳，已经烧坏了{appliance}",
            "{place}电压太高，把我家{appliance}烧了",
            "每到傍晚{place}电压就低得不行，反映过几次没人管",
            "{place}末端电压只有一百八十伏，长期这样",
            "电压忽高忽低好几个月了，{appliance}老是自动关机",
        ],
        "complaint/attitude": [
            "{person}说话阴阳怪气，一点礼貌都没有", "{person}冲我发火，态度极差", "{person}嫌我问得多，直接把我怼回来了", "{person}服务态度冷漠，爱理不理",
            "打电话到供电所，{person}态度特别差，说话很冲",
            "在营业厅办事，{person}对我大吼大叫",
            "{person}服务态度恶劣，还骂人",
            "{person}接电话很不耐烦，没说两句就把电话挂了",
            "问个停电的事，{person}爱答不理的，脸色很难看",
            "抄表的{person}态度蛮横，说话很难听",
        ],
        "complaint/conduct": [
            "{person}说好今天给回复，结果不了了之", "{person}处理问题拖拖拉拉，不按规定办", "{person}让我自己去找电工，说这事不归供电所管", "上门服务的{person}没穿工装也没带证件",
            "找了供电所好几回，{person}互相推诿，谁都不管",
            "{person}让我找台区经理，台区经理又让我找供电所，来回踢皮球",
            "约好{days}天内上门，到期没人来也没人解释",
            "{person}上门不出示证件，也不说明来干啥",
            "{person}暗示要给点好处才能快点办",
            "打了好几个电话，每个人都说不归他管，没人负责到底",
            "{person}答应回电话，结果一直没回",
        ],
        "complaint/hall": [
            "营业厅的自助机坏了也没人管，窗口也不开", "营业厅里就一个人办业务，队排到门口", "到营业厅办过户，等了两个小时没办成", "营业厅的人在玩手机，不给客户办业务",
            "营业厅上班时间大门紧闭，等了半天没人",
            "去营业厅交费排了一个多小时的队，就开一个窗口",
            "营业厅说系统坏了不给办业务，让改天再来",
            "{place}那个营业厅中午休息不办事，白跑一趟",
            "营业厅窗口提前下班，排队的人都没办成",
            "营业厅的人拒绝给我办理，说不归他们管",
        ],
        "complaint/channel": [
            "95598电话一直是忙音，根本打不进去", "网上国网App一直闪退，交不了电费", "App里的户号绑定不了，提示错误", "在线客服一直没人回复", "热线电话语音导航绕来绕去转不到人工",
            "95598打了一上午都打不通，一直占线",
            "网上国网App交费一直失败，提示系统繁忙",
            "App上的申请提交了没有任何进度，查也查不到",
            "拨95598转人工等了半个小时都没人接",
            "微信公众号绑定户号老是失败",
            "网上营业厅登录不上，业务办不了",
        ],
        "complaint/outage_notice": [
            "{place}停电没有提前通知，冰箱里的东西都坏了", "计划停电的公告{place}一张都没贴", "{place}停电了才知道是检修，事先谁都没说", "{place}停电短信一条都没收到就停了",
            "{place}今天停电了，事先一点通知都没有",
            "{place}计划停电也不提前公告，店里冷柜的货全坏了",
            "停电之前没有短信也没有贴公告，{place}都不知道要停电",
            "{place}检修停电没有提前告知，正在办酒席突然停了",
            "你们停电前为什么不通知，家里老人用的制氧机停了",
            "{place}停电公告贴在没人看的地方，根本不知道",
        ],
        "complaint/plan_execution": [
            "公告写的晚上六点来电，{place}拖到第二天早上才来", "{place}说检修半天，结果停了一整天", "{place}计划停电还没到时间就提前停了", "{place}送电时间一拖再拖，比公告晚了好几个小时",
            "公告说{place}下午四点来电，结果到晚上十点才送电",
            "计划停电说停一天，{place}停了两天",
            "公告停电时间是早上八点，{place}六点就停了",
            "{place}检修停电超过了公告时间还不送电",
            "说好中午恢复供电，到现在都没来电",
        ],
        "complaint/repair_timeliness": [
            "报修以后等了{hours}个钟头才有人来", "抢修人员来了又走，故障一直没处理", "{place}报修两次了，抢修队一直说在路上", "抢修的人说明天再来，一晚上没电",
            "{place}报修{hours}个小时了抢修人员还没到",
            "报修之后抢修太慢了，等了一整夜才来人",
            "打了好几次报修电话，一直没人来修",
            "抢修的人来了说没材料就走了，到现在也没修好",
            "抢修师傅到现场磨磨蹭蹭，修了一天还没好",
        ],
        "complaint/arrears_disconnection": [
            "欠费停电也不提前发通知，直接就停了", "电费补交了好久还不给恢复供电", "没接到催费通知就被停电了", "我按时交了电费，却被当成欠费停电",
            "因为欠费给我停电了，事先没收到任何停电通知",
            "电费已经交了，{hours}个小时了还没给复电",
            "我家根本没欠费，却被停电了，是停错了户",
            "就欠了几十块电费就直接拉闸，也不提前说",
            "交完欠费第二天还没恢复供电",
            "欠费停电没有提前通知，冰箱里的东西都坏了",
        ],
        "complaint/construction_conduct": [
            "施工队把{place}的路面挖坏了，一直不修", "施工车辆把我家门口的水管压坏了", "{place}施工的人随地扔材料，到处乱七八糟", "电力施工挖断了我家的网线，没人负责",
            "{place}施工挖开的路一直没恢复，进出很不方便",
            "施工队半夜在{place}干活，吵得人睡不着",
            "施工的时候把我家的菜地压坏了，也不赔偿",
            "立电杆把我家院墙碰坏了，施工的人不管就走了",
            "{place}施工留下一堆建筑垃圾没人清理",
        ],
        "complaint/facility_upgrade": [
            "{place}农网改造答应好的，一直拖着不干", "线路改造完了，旧电杆一直没拆", "{place}的改造工程停工好几个月了", "改造后我家表箱被挪到了很远的地方",
            "{place}的线路改造拖了好几个月还没完工",
            "改造后电杆立在我家大门口，进出很不方便，要求挪走",
            "{place}台区改造说年底完成，到现在还没动工",
            "{place}老线路改造只改了一半就停了",
            "改造的时候把表箱装到了别人家墙上",
        ],
        "complaint/facility_safety": [
            "{place}的电线都快碰到房顶了，反映了不处理", "{place}的电杆底座裂了，随时会倒", "{place}的配电箱锈穿了，电线露在外面", "{place}路边的拉线松了，挂着很危险，一直没人管",
            "{place}的电线垂得很低，货车过去差点挂到，反映过没人管",
            "{place}有根电杆歪得厉害，一直没人来处理",
            "{place}的表箱门坏了一直敞着，小孩能摸到",
            "{place}电线穿过树枝，下雨就打火花，说了多次没人处理",
            "{place}变压器的围栏坏了很久，很危险，没人管",
        ],
        "complaint/connection": [
            "申请报装快一个月了还没接电", "办理新装的时候一直说资料不全，来回跑了好几趟", "报装超过承诺的时间好几天了，没人给说法", "提交了增容申请，供电所一直不来勘查", "新装用电的申请石沉大海",
            "新房申请报装已经{days}个工作日了，还没给装表",
            "店铺报装资料交了半个月，没人联系，早超时限了",
            "申请增容{days}天了一点进展都没有，耽误开业",
            "充电桩报装申请后一直没人来装表",
            "新装电表的事一拖再拖，一问就说在走流程",
        ],
        "complaint/meter_reading": [
            "抄表员好几个月没来，每次都估电量", "抄表时间不固定，电费一会儿多一会儿少", "抄的表数不对，多算了我电量", "催费员半夜打电话催交电费",
            "这个月根本没人来抄表，电量明显是估的",
            "抄表员漏抄了，上个月电量是零，这个月一下补了好多",
            "账单上的读数和电表上的对不上",
            "催费的人把催费单贴在我家大门上，邻居都看到了",
            "抄表员不到现场，随便估个数出账",
        ],
        "complaint/billing": [
            "电费单上的电量比实际用的多很多", "我的电价执行错了，按的是一般工商业", "电费突然涨了，没有任何解释", "违约金收得没道理，我是按期交的费",
            "这个月电费高得离谱，比平时多了好几倍",
            "家里没人住，电费账单却有几百块",
            "我家是居民用电，却按商业电价收的",
            "阶梯电价算错了，多收了我的电费",
            "按时交的电费还收了违约金，不合理",
            "峰谷电价没给我执行，电费多交了",
        ],
        "complaint/metering": [
            "电能表转得比以前快多了，肯定有问题", "电表计量有误差，申请校验后也没结果", "电表换了以后电费翻倍", "电表数字对不上，怀疑表有问题",
            "怀疑电表走得太快，家里没怎么用电，表上数字涨得飞快",
            "新换的智能电表计量不准",
            "换了新表以后电量比以前多了一倍",
            "晚上什么都不用电表也在走",
            "电能表校验结果我不认可，明明不准",
        ],
        "complaint/payment": [
            "交的电费没有进到我的户号里", "在支付宝交了电费，显示缴费失败但钱扣了", "电费发票一直开不出来", "退费申请提交了一个月还没退",
            "在App上交了电费，{days}天了还显示没到账，还收到催费短信",
            "银行代扣扣了两次电费，多扣的钱不退",
            "交费成功了但是开不出电子发票",
            "用微信交的电费，账户里查不到",
            "营业厅开的发票抬头开错了，还不给重开",
        ],
        "complaint/fee": [
            "供电所收了我的安装费，不给开票", "换电表还要交钱，这合理吗", "办理增容收了一笔不明不白的费用", "工作人员私自收取服务费",
            "师傅上门换表，收了我二百块材料费，这不合规定",
            "办个过户还要交手续费，别的地方都不收",
            "表箱移位被收了一笔钱，没有任何依据",
            "申请新装被要求交工程费，不交就不给装",
            "校验电表被收了检测费，说不出收费依据",
        ],
        # ---------------------------------------------------------------- fault repairs
        "fault_repair/single_no_power": [
            "家里没电了，外面路灯是亮的", "就我们一户没电，其他人家都正常", "我家断电了，楼上楼下都有电",
            "我家突然没电了，邻居家都有电",
            "就我一家停电，空开也没跳",
            "家里一点电都没有了，别人家灯都亮着",
            "{place}就我家没电，表箱那里好像有焦味",
            "进户线好像断了，家里没电",
            "我家没电了，看了一下隔壁是有电的",
        ],
        "fault_repair/area_no_power": [
            "{place}几十户全停了，什么时候能修好", "{place}突然整条街都没电了", "{place}周围一片漆黑，都停电了",
            "{place}整片都停电了，现在一点电都没有",
            "{place}整栋楼没电了，电梯都停了",
            "刚才砰的一声，{place}一大片都黑了",
            "{place}全村都没电了，现在还没来",
            "{place}这一片突然停电，路灯也灭了",
            "现在{place}好多户都没电，不知道怎么回事",
            # the neighbours without power too: not one household's fault (taxonomy.yaml area_no_power)
            "我家停电了，邻居家也没电", "我家没电了，隔壁邻居也都停了", "{place}楼上楼下都没电了",
            "家里停电了，问了邻居他们家也没电", "我们这几户都没电，邻居家也一样",
            # "停电了" without a complaint is a fault call, not a complaint about frequent outages
            "整个小区停电了", "{place}停电了，快派人来看看", "小区停电了，什么时候来电",
        ],
        "fault_repair/voltage_problem": [
            "家里灯一下亮一下暗，电压不对", "现在家里电压高得吓人，电器都不敢开", "今天电压特别低，{appliance}转不动",
            "家里现在电压很低，灯很暗，{appliance}启动不了",
            "{place}这会儿电压忽高忽低，{appliance}一直报警",
            "家里灯一闪一闪的，电压不稳，请派人来测一下",
            "现在电压低，{appliance}带不动",
            "刚才开始家里电压特别高，灯泡都烧了",
        ],
        "fault_repair/meter_fault": [
            "电表那里冒火了，闻到一股烧焦的味道", "电表箱里有响声，电表不显示了", "电表坏了，屏幕一片黑",
            "{place}的电表箱冒烟了，能闻到焦糊味",
            "我家电表黑屏了，什么都不显示",
            "电表烧了，家里没电了",
            "表箱里的电表一直闪红灯，还滋滋响",
            "电表上的数字不动了，屏幕也不亮",
        ],
        "fault_repair/safety_hazard": [
            "{place}的电线被风刮断了，垂在路上", "{place}的电线杆快倒了，很危险", "{place}电线上挂着东西，在冒烟",
            "{place}有根电线掉地上了，很危险",
            "{place}的电杆被车撞歪了",
            "{place}路边的电线在打火，冒火花",
            "大风把树刮倒压在{place}的电线上了",
            "{place}的电缆井盖丢了，怕有人掉下去",
            "{place}的变压器在冒烟，还有响声",
        ],
        "fault_repair/customer_side": [
            "家里空开老是跳，一开电器就断", "家里的线烧了，开关合不上", "家里漏电开关总是跳，没法用电",
            "家里一开{appliance}就跳闸，闸合不上",
            "家里的漏电保护器一合就跳",
            "屋里一半房间有电一半没电",
            "家里插座冒火花以后全屋都没电了",
            "家里自己装的线路短路了，总闸跳了",
        ],
        # ---------------------------------------------------------------- other types
        "inquiry/bill": ["想查一下这个月电费多少，户号是{account}", "问一下上个月电费明细",
                         "这个月电费为啥比上个月多，想了解一下", "查一下我的电费余额还剩多少",
                         "我的户号是{account}，欠了多少电费"],
        "inquiry/tariff": ["居民阶梯电价是怎么算的", "峰谷电价怎么申请，划算不划算", "一般工商业电价是多少钱一度",
                           "一年用多少度电会到第二档"],
        "inquiry/outage_time": ["{place}停电了，问一下啥时候能来电", "{place}明天是不是要计划停电",
                                "看到停电公告了，想确认一下{place}停到几点", "问下今天{place}检修几点送电"],
        "inquiry/payment": ["网上国网App怎么交电费", "电费可以在哪些地方交", "电费的电子发票怎么开",
                            "怎么办理银行代扣电费"],
        "inquiry/procedure": ["新房办电要带什么资料", "过户需要哪些材料", "充电桩报装流程是怎样的", "增容要多长时间能办好"],
        "inquiry/other": ["光伏发电并网怎么办理", "家里用电安全要注意什么", "电能表校验怎么申请"],
        "service_request/new_connection": ["申请新装居民用电，地址在{place}", "店铺开业要申请新装低压用电",
                                           "新建的房子申请装表接电"],
        "service_request/capacity_change": ["现在的容量不够用，申请增容", "厂里添了设备，要申请增加容量"],
        "service_request/name_change": ["房子过户了，申请电费户名变更", "申请更改户名和联系电话"],
        "service_request/meter_test": ["申请校验一下电表", "申请对电能表做个检测"],
        "service_request/ev_charger": ["申请安装电动汽车充电桩", "小区车位申请充电桩用电"],
        "service_request/meter_move": ["房子改建需要挪电表，申请表箱移位", "申请迁移电表位置"],
        "service_request/reconnection": ["电费已经交清了，申请恢复送电", "暂停用电到期了，申请恢复用电"],
        "opinion/outages": ["{place}最近停电有点多，希望改善一下供电", "对{place}供电质量有点意见，希望加强维护",
                            "我们这边停电次数多了点，希望你们多检修检修"],
        "opinion/app": ["网上国网App太复杂了，老年人不会用", "App老是要重新登录，用起来不方便"],
        "opinion/hall": ["营业厅太少了，去一趟要坐很久的车", "营业厅周末不开门，上班族很不方便"],
        "opinion/notice": ["停电通知只贴在小区门口，好多人看不到", "停电短信有时候收不到"],
        "opinion/trees": ["修剪树木剪得太狠，路边的树都秃了", "清理线路下的树以后树枝没拉走"],
        "report/theft": ["{place}有人私接电线偷电", "{place}有家工厂好像绕过电表用电", "{place}有人在电表上做手脚窃电"],
        "report/illegal_use": ["{place}有人私拉乱接电线给养殖场用", "有人用居民电开加工厂"],
        "report/staff": ["供电所有人收好处费给人优先办理", "有人冒充供电公司员工上门收费"],
        "suggestion/app": ["建议App增加停电信息推送", "建议App加一个用电量分析提醒功能"],
        "suggestion/notice": ["建议停电前用短信和微信群提前通知", "建议村里设一个停电公告栏"],
        "suggestion/service": ["建议乡镇多放几台自助缴费机", "建议营业厅开一个老年人专用窗口"],
        "praise/repair": ["抢修师傅半夜冒雨赶来，很快就来电了", "抢修人员来得很快，修得也很仔细"],
        "praise/hall": ["营业厅的姑娘特别耐心，帮老人把业务办好了", "营业员服务热情，很快就办完了"],
        "praise/manager": ["台区经理主动上门帮我们查线路，非常负责", "供电所的同志上门解决问题，服务很周到"],
    },
    # pinyin-input slips and near-homophones seen in typed orders
    "typos": {"再": "在", "已经": "以经", "账": "帐", "反映": "反应", "交费": "缴费", "什么": "什麽", "的": "得",
              "电费": "电废", "没有": "没用", "怎么": "怎莫"},
    "fillers": ["那个，", "嗯，", "就是说，", "你知道吧，", "哎呀，", "怎么说呢，"],
    "dialect": {"我家": "俺家", "怎么": "咋", "什么": "啥", "我们": "咱们", "没有": "没得", "很": "老"},
}

# ================================================================================================ HELDOUT
HELDOUT = {
    "places": ["梧桐里", "青石村", "阳光城二期", "解放街", "沙河镇", "翠湖小区", "高家湾", "北门菜场", "荷塘村五组",
               "兴业大道", "金桥花园", "柳树屯"],
    "appliances": ["冰柜", "抽水机", "壁挂炉", "电动车充电器", "微波炉", "吹风机"],
    "persons": ["这位员工", "窗口的工作人员", "供电所一个小伙子", "客服人员", "上门的电工"],
    "openers": {
        "caller": ["", "打扰一下，", "同志你好，", "我这边有个问题，"],
        "agent": ["据客户所述，", "来电人陈述：", "工单摘要：", "客户诉求："],
        "app": ["（微信公众号）", "[在线客服]", "网上国网用户提交："],
    },
    "demands": {
        "complaint": ["请上级部门督办。", "希望严肃处理。", "客户情绪激动，坚持投诉。", "要求追究责任并回复。",
                      "这事没完，我要投诉到底。"],
        "opinion": ["客户表示只是提意见，不要求投诉。", "希望以后注意，提个意见。", "提出意见供参考。"],
        "fault_repair": ["请安排抢修。", "请速派人处理。", "急需处理。", ""],
        "inquiry": ["请解答。", "客户想了解清楚。", ""],
        "service_request": ["客户申请办理。", "请受理。", ""],
        "report": ["请依法查处。", "请安排核查。"],
        "suggestion": ["客户提出建议。", "仅供参考。"],
        "praise": ["客户来电表扬。", "非常感谢。"],
    },
    "cores": {
        "complaint/frequent_outage": [
            "{place}一周之内停了{n}次电，生活受到严重影响",
            "近期{place}反复停电，每次几个小时",
            "两个月里{place}断电{n}回，冰柜里的货全臭了",
            "{place}这阵子停电特别多，隔几天就停一次",
        ],
        "complaint/voltage": [
            "{place}低电压问题持续很久，{appliance}无法使用",
            "{place}电压长期不稳定，{appliance}已经损坏",
            "晚上用电高峰{place}电压偏低，灯光暗得看不清",
        ],
        "complaint/attitude": [
            "{person}说话难听，态度粗暴",
            "到供电所咨询，{person}很不耐烦，把我往外撵",
            "{person}在电话里训斥客户，态度很差",
        ],
        "complaint/conduct": [
            "问题反映给{person}，对方推给别的部门，没人负责",
            "{person}承诺的事情没有兑现，到期了也没有任何说明",
            "{person}上门时没有亮明身份，也没解释来意",
        ],
        "complaint/hall": [
            "营业厅在营业时间内关门，没人办理业务",
            "营业厅排队时间太长，只有一个窗口在办",
            "营业厅工作人员推说系统故障拒绝办理",
        ],
        "complaint/channel": [
            "95598热线长时间无人接听，一直占线",
            "网上国网App缴费总是失败，系统报错",
            "线上提交的申请查不到任何办理进度",
        ],
        "complaint/outage_notice": [
            "{place}停电事先没有任何通知，也没有看到公告",
            "{place}检修停电没提前告知，造成损失",
            "没有接到停电通知，{place}突然停了一整天",
        ],
        "complaint/plan_execution": [
            "{place}停电公告说下午送电，结果拖到半夜才来电",
            "{place}停电比公告的时间提前了两个小时",
            "{place}计划停电到期不送电，超过公告时间",
        ],
        "complaint/repair_timeliness": [
            "报修后抢修人员{hours}小时都没到现场",
            "抢修效率太低，修了一整天还没恢复",
            "报修电话打了几遍，抢修一直没人来",
        ],
        "complaint/arrears_disconnection": [
            "欠费停电前没有送达任何通知",
            "已缴清欠费，{hours}小时后仍未复电",
            "我家没有欠费却被拉闸停电",
        ],
        "complaint/construction_conduct": [
            "施工单位在{place}挖沟后没有回填，路面一直坑坑洼洼",
            "{place}施工噪音太大，半夜还在干活",
            "施工把我家的庄稼踩坏了，没有赔偿",
        ],
        "complaint/facility_upgrade": [
            "{place}的电网改造工程迟迟不完工",
            "改造时把电杆立在我家门口，要求移走",
            "{place}改造工程做一半就停了，一直没人管",
        ],
        "complaint/facility_safety": [
            "{place}的电线离地太近，反映多次没有整改",
            "{place}的电杆倾斜很久了，一直没人来扶正",
            "{place}表箱破损敞开，存在隐患，反映了没人管",
        ],
        "complaint/connection": [
            "报装申请提交{days}个工作日仍未装表接电",
            "申请增容超过承诺时限还没办好",
            "充电桩报装拖了很久没人来装",
        ],
        "complaint/meter_reading": [
            "抄表员没有上门抄表，按估计电量出账",
            "上月漏抄，本月电量一次性补了很多",
            "催费人员在门上张贴催费单，影响很不好",
        ],
        "complaint/billing": [
            "本月电费突然翻了几倍，明显不正常",
            "居民用户被按商业电价计费，多收了电费",
            "阶梯电价计算错误，要求退还多收的电费",
        ],
        "complaint/metering": [
            "电能表计量不准确，走字太快",
            "换表后用电量明显偏高，怀疑新表不准",
            "家里不用电电表也在转",
        ],
        "complaint/payment": [
            "App缴费{days}天仍未到账，还被催费",
            "代扣重复扣费，多扣的钱一直没退",
            "缴费后开不了电子发票",
        ],
        "complaint/fee": [
            "工作人员换表时收取材料费，不符合规定",
            "办理过户被收取手续费，没有依据",
            "申请新装时被要求交额外的费用",
        ],
        "fault_repair/single_no_power": [
            "只有我家停电，左邻右舍都正常",
            "家中无电，其他住户有电，开关没跳",
            "{place}我家没电，旁边几户都有电",
        ],
        "fault_repair/area_no_power": [
            "{place}大面积停电，附近都没电",
            "{place}整个小区停电，楼道灯都不亮",
            "{place}全部断电，一户都没电",
            "家里没电，左右邻居家也停电了",
        ],
        "fault_repair/voltage_problem": [
            "家里电压异常，{appliance}无法启动，灯光发暗",
            "{place}此刻电压偏高，灯泡烧坏了几个",
            "现在电压不稳定，灯光忽明忽暗",
        ],
        "fault_repair/meter_fault": [
            "电表显示屏不亮，没有读数",
            "{place}表箱内电表烧坏冒烟",
            "电能表发出异响，还在冒烟",
        ],
        "fault_repair/safety_hazard": [
            "{place}有电线断落在路上",
            "{place}电线杆倾倒，压在路边",
            "{place}线路冒火花，存在危险",
        ],
        "fault_repair/customer_side": [
            "家里开关一合就跳，合不上",
            "屋内线路短路，总开关跳闸",
            "家里部分插座没电，漏保一直跳",
        ],
        "inquiry/bill": ["查询本月电费金额", "想知道电费为什么比上月高", "询问目前欠费金额"],
        "inquiry/tariff": ["询问阶梯电价的分档标准", "询问峰谷分时电价的时段"],
        "inquiry/outage_time": ["询问{place}停电什么时候恢复", "询问{place}计划停电的具体时间"],
        "inquiry/payment": ["询问电费缴纳的渠道", "询问如何开具电费发票"],
        "inquiry/procedure": ["询问办理新装需要的材料", "询问过户的办理流程"],
        "inquiry/other": ["询问光伏并网的流程"],
        "service_request/new_connection": ["申请新装用电，地址{place}", "新建厂房申请用电报装"],
        "service_request/capacity_change": ["申请增加变压器容量"],
        "service_request/name_change": ["申请办理户名过户"],
        "service_request/meter_test": ["申请电能表现场校验"],
        "service_request/ev_charger": ["申请办理充电桩用电"],
        "service_request/meter_move": ["申请电表移位"],
        "service_request/reconnection": ["欠费已缴清，申请复电"],
        "opinion/outages": ["{place}停电较多，希望供电公司改进", "对近期停电情况有意见，希望加强线路维护"],
        "opinion/app": ["App界面不够简洁，操作不便"],
        "opinion/hall": ["营业厅网点太少，办事不方便"],
        "opinion/notice": ["停电公告张贴位置不明显"],
        "opinion/trees": ["线路走廊砍树太多"],
        "report/theft": ["{place}有人窃电", "发现{place}有人私自接线绕过电表"],
        "report/illegal_use": ["{place}有人违规私拉电线"],
        "report/staff": ["反映供电所人员索要好处费"],
        "suggestion/app": ["建议App增加停电提醒功能"],
        "suggestion/notice": ["建议停电通知通过短信发送到每户"],
        "suggestion/service": ["建议增设便民缴费点"],
        "praise/repair": ["抢修人员冒雨抢修，及时恢复了供电"],
        "praise/hall": ["营业厅工作人员耐心周到"],
        "praise/manager": ["台区经理服务热情，主动上门"],
    },
    "typos": {"电压": "电亚", "停电": "停店", "户号": "护号", "以后": "已后"},
    "fillers": ["呃，", "这个，", "那么，"],
    "dialect": {"没电": "没电咧", "什么时候": "啥时候", "这里": "这嘎达"},
}

# How many samples of each kind of label (complaints and faults are what the classifier must split
# finely; the other types carry a few topics each).
WEIGHTS = {"complaint": 1.0, "fault_repair": 1.0}
OTHER_WEIGHT = 1.6  # spread over a type's topics


def label_keys(tables: dict) -> list[str]:
    return sorted(tables["cores"])


def _fill(rng: random.Random, core: str, tables: dict) -> str:
    return core.format(
        place=rng.choice(tables["places"]), n=rng.choice(["三", "四", "五", "3", "4", "6"]),
        days=rng.choice(["五", "十", "15", "二十"]), hours=rng.choice(["三", "五", "8", "十几"]),
        appliance=rng.choice(tables["appliances"]), person=rng.choice(tables["persons"]),
        account=f"31{rng.randrange(10**8):08d}")


def _noise(rng: random.Random, text: str, tables: dict) -> str:
    roll = rng.random()
    if roll < 0.15:
        src, dst = rng.choice(list(tables["typos"].items()))
        text = text.replace(src, dst, 1)
    elif roll < 0.30:
        src, dst = rng.choice(list(tables["dialect"].items()))
        text = text.replace(src, dst)
    if rng.random() < 0.15:
        text = rng.choice(tables["fillers"]) + text
    if rng.random() < 0.1:
        text = text.replace("，", " ").replace("。", "")
    if rng.random() < 0.05:
        text = text.rstrip("。") + "！！！"
    return text


def _compose(rng: random.Random, key: str, tables: dict) -> str:
    order_type = key.split("/")[0]
    style = rng.choice(["caller", "caller", "agent", "app"])
    core = _fill(rng, rng.choice(tables["cores"][key]), tables)
    demand = rng.choice(tables["demands"][order_type])
    opener = rng.choice(tables["openers"][style])
    if style == "agent":
        core = core.replace("我家", "其家").replace("我", "本人") if rng.random() < 0.5 else core
    text = f"{opener}{core}，{demand}" if demand else f"{opener}{core}。"
    return _noise(rng, text, tables)


def generate(tables: dict, per_label: int, seed: int) -> list[Sample]:
    """Deterministic samples: `per_label` for each complaint category and fault kind, and about
    `per_label * OTHER_WEIGHT` for each other order type (spread over its topics)."""
    rng = random.Random(seed)
    keys = label_keys(tables)
    topics: dict[str, int] = {}
    for key in keys:
        t = key.split("/")[0]
        if t not in WEIGHTS:
            topics[t] = topics.get(t, 0) + 1
    out = []
    for key in keys:
        t = key.split("/")[0]
        n = per_label if t in WEIGHTS else max(2, round(per_label * OTHER_WEIGHT / topics[t]))
        for _ in range(n):
            out.append(Sample(_compose(rng, key, tables), *labels_of(key)))
    return out


def training_corpus(per_label: int = 240, seed: int = 2026) -> list[Sample]:
    return generate(TRAIN, per_label, seed)


def heldout_corpus(per_label: int = 60, seed: int = 7) -> list[Sample]:
    return generate(HELDOUT, per_label, seed)


def corpus_hash(samples) -> str:
    h = hashlib.sha256()
    for s in samples:
        h.update("\t".join([s.text, s.order_type, s.category_l2, s.fault_kind]).encode("utf-8"))
        h.update(b"\n")
    return h.hexdigest()[:16]
