#!/usr/bin/env python3
"""Regenerate the rectification-ledger (整改台账) fixtures in this folder.

    python3 -m venv /tmp/fx
    /tmp/fx/bin/pip install -q openpyxl xlwt odfpy xlrd python-calamine pyyaml
    /tmp/fx/bin/python make_ledgers.py          # writes every file + EXPECTED.yaml, then checks them

The fixtures were written blind (without reading the importer).  Every expected value in
EXPECTED.yaml is typed by hand in the item tables below (``exp_deadline``, ``lead``, ``co``,
``status`` ...); nothing is computed by a date parser, so the expectations do not share bugs
with any parser.  Reference dates: 填报日期 2026-11-20 where the ledger states it, otherwise the
import date 2026-12-01 (a Tuesday); 立行立改 = 5 working days after import = 2026-12-08.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import shutil
import sys
from pathlib import Path

import openpyxl
import xlwt
import yaml
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from odf.opendocument import OpenDocumentSpreadsheet
from odf import number as odfnum
from odf.style import (Style, TableCellProperties, TableColumnProperties,
                       TextProperties, ParagraphProperties)
from odf.table import CoveredTableCell, Table, TableCell, TableColumn, TableRow
from odf.text import P

OUT = Path(__file__).resolve().parent
FILING_DATE = "2026-11-20"
IMPORT_DATE = "2026-12-01"
IMMEDIATE_ON_IMPORT = "2026-12-08"   # 2026-12-01 (Tue) + 5 working days

# ----------------------------------------------------------------------------------------
# A sheet model shared by the xlsx / xls / ods writers
# ----------------------------------------------------------------------------------------


class Sheet:
    def __init__(self, name: str, ncols: int = 0):
        self.name = name
        self.ncols = ncols
        self.cells: dict[tuple[int, int], object] = {}     # (row, col), 1-based
        self.merges: list[tuple[int, int, int, int]] = []  # r1, c1, r2, c2 (inclusive)
        self.kind: dict[int, str] = {}                     # row -> title/filing/header/item/blank/foot
        self.widths: dict[int, float] = {}
        self.text_cols: set[int] = set()                   # columns formatted as text (@)

    def put(self, r, c, v):
        if v is None or v == "":
            return
        self.cells[(r, c)] = v

    def merge(self, r1, c1, r2, c2, v=None):
        if v is not None:
            self.put(r1, c1, v)
        for (a, b, c_, d) in self.merges:
            if not (r2 < a or r1 > c_ or c2 < b or c1 > d):
                raise ValueError(f"overlapping merge {self.name} {(r1, c1, r2, c2)}")
        for r in range(r1, r2 + 1):
            for c in range(c1, c2 + 1):
                if (r, c) != (r1, c1) and (r, c) in self.cells:
                    raise ValueError(f"value under merge at {(r, c)}")
        self.merges.append((r1, c1, r2, c2))

    @property
    def nrows(self):
        rows = [r for r, _ in self.cells] + [m[2] for m in self.merges] + list(self.kind)
        return max(rows) if rows else 0

    def covered(self):
        """cells hidden under a merge (not the top-left one)"""
        out = {}
        for (r1, c1, r2, c2) in self.merges:
            for r in range(r1, r2 + 1):
                for c in range(c1, c2 + 1):
                    if (r, c) != (r1, c1):
                        out[(r, c)] = (r1, c1)
        return out


# ----------------------------------------------------------------------------------------
# Item tables (hand-written expectations)
# ----------------------------------------------------------------------------------------
# keys: id, cat, problem, plan, dl (the cell as the office typed it), exp_dl (expected),
#       leader, units (cell text), lead, co, owner, progress, status_cell, status, note, extra

A_ITEMS = [
    dict(id=1, cat="形式主义问题",
         problem="文山会海问题依然突出。2026年以来县级层面印发文件数量不降反升，部分会议层层陪会、以会议落实会议，基层干部疲于参会。",
         plan="1.严格执行年度发文计划，县委办、县政府办统筹控制发文数量，能不发的坚决不发；\n2.推行“短实新”会风，同类会议合并召开，不得要求乡镇主要负责同志陪会。",
         dl="12月底", exp_dl="2026-12-31", leader="王立新",
         units="县委办公室、县政府办公室", lead="县委办公室", co=["县政府办公室"], owner="刘文斌",
         progress="正在整改", status="in_progress", note=""),
    dict(id=2, cat="形式主义问题",
         problem="过度留痕问题仍然存在。部分乡镇要求村（社区）对每项工作拍照、建档、填表，迎检资料动辄数十盒，“以痕迹论实绩”。",
         plan="开展过度留痕专项清理，制定村级台账资料清单，清单外一律不得要求基层提供纸质佐证材料。",
         dl="2026年底", exp_dl="2026-12-31", leader="王立新",
         units="县委组织部、县委编办", lead="县委组织部", co=["县委编办"], owner="赵海波",
         progress="推进中", status="in_progress", note=""),
    dict(id=3, cat="形式主义问题",
         problem="指尖上的形式主义禁而未绝。部分部门要求基层干部每日在政务APP打卡、上传工作截图，学习积分排名通报，工作群多达十余个。",
         plan="全面清理面向基层的政务APP和工作群，同一事项只保留一个平台，取消每日打卡、截图上报和积分排名。",
         dl="2026年12月", exp_dl="2026-12-31", leader="王立新",
         units="县委组织部、县委编办", lead="县委组织部", co=["县委编办"], owner="赵海波",
         progress="已完成", status="closed", note="已注销工作群12个"),
    dict(id=4, cat="形式主义问题",
         problem="督查检查考核过多过频。2026年上半年县级部门到乡镇开展各类督查检查41次，内容交叉重复，“督查的督查”现象仍有发生。",
         plan="实行督查检查考核年度计划和总量控制，统筹整合同类事项，推行“多督合一”“一次进村、全面体检”。",
         dl="2027年1月31日前", exp_dl="2027-01-31", leader="王立新",
         units="县委督查室/县政府督查室", lead="县委督查室", co=["县政府督查室"], owner="钱志刚",
         progress="", status="open", note=""),
    dict(id=5, cat="官僚主义问题",
         problem="窗口单位服务意识不强，群众办事“门难进、脸难看、事难办”现象仍有发生，个别事项要求群众重复提交材料。",
         plan="开展窗口单位作风专项整治，严格落实首问负责、一次性告知和限时办结制度，推行“一窗受理、一次办好”。",
         dl="12月31日", exp_dl="2026-12-31", leader="李红梅",
         units="县政务服务中心", lead="县政务服务中心", co=[], owner="孙丽",
         progress="已销号", status="closed", note="2026年11月经县委巡察办审核同意销号"),
    dict(id=6, cat="官僚主义问题",
         problem="县教育局对群众反映的学校食堂收费问题回应不及时，3件信访件办理超期，群众不满意。",
         plan="建立信访件办理台账，实行专人跟踪督办，限时办结并逐件回访。",
         dl=dt.datetime(2026, 12, 31, 0, 0), exp_dl="2026-12-31", leader="李红梅",
         units="县教育局", lead="县教育局", co=[], owner="周志强",
         progress="正在整改", status="in_progress", note="",
         dl_note="real date-time cell, number format yyyy/m/d h:mm, shows 2026/12/31 0:00"),
    dict(id=7, cat="官僚主义问题",
         problem="教育系统“文来文往”问题突出，基层学校每月需报送各类报表20余种，同一数据多头重复填报。",
         plan="建立教育系统报表目录清单，统一数据采集口径，推行“一表通”，清单外报表一律取消。",
         dl="2026 年 12 月 31 日", exp_dl="2026-12-31", leader="李红梅",
         units="县教育局", lead="县教育局", co=[], owner="周志强",
         progress="推进中", status="in_progress", note=""),
    dict(id=8, cat="官僚主义问题",
         problem="各类“进校园”活动过多过滥，学校迎检迎评任务重，教师疲于应付，影响正常教学秩序。",
         plan="严格“进校园”活动审批备案，未经县教育局审核的一律不得进校园。",
         dl="46387", exp_dl="2026-12-31", leader="李红梅",
         units="县教育局", lead="县教育局", co=[], owner="周志强",
         progress="已完成", status="closed", note="已出台《进校园活动管理办法》",
         dl_note="text cell holding an Excel serial number (46387 = 2026-12-31)"),
    dict(id=9, cat="为基层减负不到位",
         problem="县卫健局向乡镇卫生院层层下派考核指标，考核结果与评先评优简单挂钩，“一票否决”事项过多。",
         plan="全面清理规范对乡镇卫生院的考核指标，取消不合理的“一票否决”和“签订责任状”事项。",
         dl="立行立改", exp_dl="immediate", leader="陈建华",
         units="县卫健局", lead="县卫健局", co=[], owner="吴敏",
         progress="已完成", status="closed", note=""),
    dict(id=10, cat="为基层减负不到位",
         problem="“属地管理”泛化，部分职能部门将执法、监管责任以“属地管理”名义转嫁给乡镇和村（社区）。",
         plan="制定乡镇履行职责事项清单，厘清县乡权责边界，严禁职能部门随意向乡镇、村（社区）转嫁责任。",
         dl="长期坚持", exp_dl="standing", leader="陈建华",
         units="县委编办，县司法局", lead="县委编办", co=["县司法局"], owner="郑伟",
         progress="推进中", status="in_progress", note=""),
    dict(id=11, cat="为基层减负不到位",
         problem="青山镇村级组织挂牌过多，部分村（社区）办公场所悬挂各类牌子20余块，创建示范、达标评比名目繁多。",
         plan="全面清理村级组织挂牌，除党组织、村委会等规定牌子外一律摘除，建立挂牌事项准入制度。",
         dl="2026年10月底", exp_dl="2026-10-31", leader="陈建华",
         units="青山镇人民政府", lead="青山镇人民政府", co=[], owner="冯涛",
         progress="", status="open", note="",
         dl_note="deadline already past on the 填报日期: open and overdue"),
    dict(id=12, cat="干部作风问题",
         problem="部分干部担当作为意识不强，存在“躺平”心态，对群众诉求推诿扯皮，“不求有功、但求无过”。",
         plan="开展不担当不作为问题专项整治，对典型问题通报曝光，将整治结果纳入年度考核。",
         dl="持续推进", exp_dl="standing", leader="县委常委、组织部部长 何卫东",
         units="县委组织部 县人社局", lead="县委组织部", co=["县人社局"], owner="黄磊",
         progress="正在整改", status="in_progress", note=""),
    dict(id=13, cat="干部作风问题",
         problem="容错纠错机制落实不到位，“三个区分开来”把握不准，干部干事创业顾虑多。",
         plan="出台容错纠错实施细则，建立澄清正名工作机制，对受到诬告错告的干部及时澄清正名。",
         dl=dt.date(2027, 3, 31), exp_dl="2027-03-31", leader="县委常委、组织部部长 何卫东",
         units="县纪委监委", lead="县纪委监委", co=[], owner="林静",
         progress="", status="open", note="",
         dl_note="real Excel date cell (serial 46477), number format yyyy\"年\"m\"月\"d\"日\""),
    dict(id=14, cat="干部作风问题",
         problem="调查研究走过场，“打卡式”“盆景式”调研仍有出现，调研成果转化运用不够。",
         plan="制定年度调研计划，县级领导每年到基层调研不少于30天，建立调研成果转化清单。",
         dl="3月底", exp_dl="2027-03-31", leader="县委常委、组织部部长 何卫东",
         units="县委政研室", lead="县委政研室", co=[], owner="谢明",
         progress="", status="open", note="",
         dl_note="the next end of March on or after 2026-11-20 is in 2027"),
]
# vertical merges, by item index (1-based, inclusive); they never cross the blank row
A_GROUPS = {
    "cat": [(1, 4), (5, 8), (9, 11), (12, 14)],
    "leader": [(1, 4), (5, 8), (9, 11), (12, 14)],
    "units": [(2, 3), (6, 8)],
    "owner": [(2, 3), (6, 8)],
}
A_BLANK_AFTER = {8: 1}          # one blank row after item 8
A_FOOT = [
    "注：1.整改时限请填写具体日期，确需长期坚持的注明“长期坚持”；2.完成情况填写“已完成”“正在整改”“已销号”；3.本表于每月25日前报县委巡察办。",
    "填表人：刘某某　　　　审核人：张某某　　　　联系电话：138****5678",
]

B_ITEMS = [
    dict(id=1, cat="形式主义问题",
         problem="农业农村系统“材料出政绩”，高标准农田建设项目验收重资料轻实效，部分地块建成后撂荒。",
         plan="组织开展已建高标准农田“回头看”，建立建后管护责任清单，逐地块明确管护主体。",
         dl="2026年12月底", exp_dl="2026-12-31", leader="马国庆",
         units="某某县农业农村局", lead="某某县农业农村局", co=[], owner="杨帆",
         progress="正在整改", status="in_progress", note=""),
    dict(id=2, cat="形式主义问题",
         problem="涉农项目申报“填表比赛”，村级每年需填报各类申报表、统计表50余份，数据层层重复报送。",
         plan="整合涉农统计报表，推行“一次采集、多方共享”，取消无依据的报表。",
         dl="6月底", exp_dl="2027-06-30", leader="马国庆",
         units="某某县农业农村局", lead="某某县农业农村局", co=[], owner="杨帆",
         progress="", status="open", note="",
         dl_note="the next end of June on or after 2026-11-20"),
    dict(id=3, cat="形式主义问题",
         problem="城关镇组织“刷屏式”宣传，要求村干部每日在朋友圈转发工作动态并截图上报。",
         plan="立即停止转发截图上报要求，对相关责任人批评教育。",
         dl="立行立改", exp_dl="immediate", leader="马国庆",
         units="城关镇人民政府", lead="城关镇人民政府", co=[], owner="韩冬",
         progress="已整改", status="closed", note=""),
    dict(id=4, cat="官僚主义问题",
         problem="某某县自然资源局对群众不动产登记诉求推诿扯皮，“办证难”问题反映集中。",
         plan="开展不动产登记历史遗留问题专项攻坚，建立问题清单、责任清单、销号清单。",
         dl="2027年6月30日前", exp_dl="2027-06-30", leader="罗志远",
         units="某某县自然资源局、某某县住建局", lead="某某县自然资源局", co=["某某县住建局"], owner="曹丽娟",
         progress="推进中", status="in_progress", note=""),
    dict(id=5, cat="官僚主义问题",
         problem="民政领域低保审核“一刀切”，对特殊困难群众诉求回应不及时。",
         plan="开展低保动态管理专项排查，建立困难群众诉求快速响应机制。",
         dl="常态化", exp_dl="standing", leader="罗志远",
         units="某某县民政局", lead="某某县民政局", co=[], owner="邓海燕",
         progress="已完成", status="closed", note=""),
    dict(id=6, cat="官僚主义问题",
         problem="医保经办“多头跑、反复跑”，异地就医备案流程繁琐，群众反映强烈。",
         plan="推行异地就医备案“网上办、掌上办”，压缩办理时限至1个工作日。",
         dl="2026年11月底", exp_dl="2026-11-30", leader="罗志远",
         units="某某县医保局", lead="某某县医保局", co=[], owner="田野",
         progress="正在整改", status="in_progress", note="",
         dl_note="after the 填报日期 but before the import date 2026-12-01: overdue at import"),
]
B_GROUPS = {
    "cat": [(1, 3), (4, 6)],
    "leader": [(1, 3), (4, 6)],
    "units": [(1, 2)],
    "owner": [(1, 2)],
}
B_FOOT = ["注：本表由某某县委巡察办汇总，整改完成一项、销号一项。"]

# county_a_multisheet.xlsx — one sheet per category, alternative header names
M_HEADER = ["序号", "问题表现", "整改目标", "牵头单位", "配合单位", "责任人", "完成时限",
            "整改进展", "整改状态", "佐证材料", "备注"]
M_SHEETS = {
    "形式主义问题": [
        dict(id=1, problem="部分单位会议多、文件多，“以会议落实会议、以文件落实文件”，照抄照转上级文件。",
             plan="全年发文、会议数量较上年压减30%以上。", lead_cell="县委办公室", co_cell="县政府办公室",
             lead="县委办公室", co=["县政府办公室"], owner="刘文斌", dl="年底前", exp_dl="2026-12-31",
             progress="已制定2027年度发文计划，11月份县级会议同比减少8个。", status_cell="正在整改",
             status="in_progress", evidence="会议计划表", note=""),
        dict(id=2, problem="政务APP“指尖负担”重，村干部手机安装政务类APP多达15个，每日需打卡签到、上传定位。",
             plan="面向基层的政务APP整合至3个以内，取消强制打卡。", lead_cell="县大数据中心、县委网信办",
             co_cell="县直各部门", lead="县大数据中心", co=["县委网信办", "县直各部门"], owner="许鹏",
             dl="3月底", exp_dl="2027-03-31", progress="已完成首轮摸排，拟注销APP9个。",
             status_cell="推进中", status="in_progress", evidence="", note="",
             status_note="the progress text begins with 已完成 (首轮摸排) but 整改状态 says 推进中: "
                         "the status column wins"),
        dict(id=3, problem="迎检材料“一事多报”，同一项工作需按不同部门格式重复报送。",
             plan="建立报表共享机制，实现“一次报送、多方共用”。", lead_cell="县统计局",
             co_cell="县委办公室，县政府办公室", lead="县统计局", co=["县委办公室", "县政府办公室"],
             owner="蒋芳", dl="6月30日前", exp_dl="2027-06-30", progress="", status_cell="",
             status="open", evidence="", note=""),
        dict(id=4, problem="创建示范评比过多，部分创建活动层层分解指标到村。",
             plan="清理规范创建示范评比活动，未经批准的一律取消。", lead_cell="县委办公室 ",
             co_cell="", lead="县委办公室", co=[], owner="刘文斌", dl="11月底", exp_dl="2026-11-30",
             progress="已清理取消创建示范活动6项。", status_cell="已完成", status="closed",
             evidence="清理清单", note="",
             unit_note="lead cell has a trailing space: it must not yield an empty co-unit"),
        dict(id=5, problem="“痕迹管理”变“管理痕迹”，基层工作日志、民情日记等要求逐日手写。",
             plan="取消不必要的手写日志要求，推行简化电子记录。", lead_cell="县委组织部",
             co_cell="各乡镇人民政府", lead="县委组织部", co=["各乡镇人民政府"], owner="赵海波",
             dl="10月底", exp_dl="2027-10-31", progress="", status_cell="正在整改",
             status="in_progress", evidence="", note="",
             dl_note="strict reading of the rule: the next 10-31 on or after 2026-11-20 is 2027-10-31 "
                     "(a human might have meant the past 2026-10-31; a warning would be welcome)"),
    ],
    "官僚主义问题": [
        dict(id=1, problem="县住建局对老旧小区改造中群众反映的加装电梯问题“只登记、不办理”。",
             plan="建立群众诉求办理闭环机制，诉求按期办结率达到100%。", lead_cell="县住建局",
             co_cell="县市场监管局", lead="县住建局", co=["县市场监管局"], owner="梁超",
             dl=dt.date(2027, 1, 15), exp_dl="2027-01-15", progress="已召开协调会2次，完成加装电梯4部。",
             status_cell="推进中", status="in_progress", evidence="", note="",
             dl_note="real Excel date cell"),
        dict(id=2, problem="部分审批事项“明减暗增”，群众办事“门好进、脸好看、事难办”。",
             plan="全面梳理审批事项，公布办事指南，杜绝“体外循环”。", lead_cell="县行政审批局",
             co_cell="", lead="县行政审批局", co=[], owner="宋佳", dl="立行立改", exp_dl="immediate",
             progress="已公布政务服务事项清单。", status_cell="已销号", status="closed",
             evidence="事项清单", note="2026年11月15日销号"),
        dict(id=3, problem="领导干部下基层“走马观花”，调研活动“被安排”，听汇报多、看现场少。",
             plan="建立领导干部基层联系点制度，推行“四不两直”调研。", lead_cell="县委办公室",
             co_cell="县委组织部", lead="县委办公室", co=["县委组织部"], owner="刘文斌",
             dl="常态化", exp_dl="standing", progress="", status_cell="正在整改",
             status="in_progress", evidence="", note=""),
        dict(id=4, problem="石桥镇对群众反映的农村饮水安全问题回应迟缓，部分村季节性缺水。",
             plan="完成石桥镇3个村饮水管网改造。", lead_cell="石桥镇人民政府", co_cell="县水利局",
             lead="石桥镇人民政府", co=["县水利局"], owner="彭勇", dl="2026年12月",
             exp_dl="2026-12-31", progress="", status_cell="", status="open", evidence="", note=""),
    ],
}
M_INSTRUCTIONS = [
    "填表说明",
    "1.本台账按问题类别分表填写，每类问题一张工作表。",
    "2.“问题表现”栏照录巡察反馈意见原文，不得改写。",
    "3.“牵头单位”“配合单位”栏填写单位全称，多个单位之间用顿号隔开。",
    "4.“完成时限”栏填写具体日期，如2026年12月31日；需长期坚持的填写“长期坚持”。",
    "5.“整改状态”栏填写“正在整改”“已完成”“已销号”之一。",
    "6.本表每月25日前报送县委巡察办，联系电话：138****5678。",
]


# ----------------------------------------------------------------------------------------
# Builders
# ----------------------------------------------------------------------------------------
A_HEAD = ["序号", "问题类别", "反馈问题", "整改措施", "整改时限", "责任领导", "责任单位", "责任人",
          "完成情况", "备注"]
A_COL = {"id": 1, "cat": 2, "problem": 3, "plan": 4, "dl": 5, "leader": 6, "units": 7,
         "owner": 8, "progress": 9, "note": 10}
A_WIDTHS = {1: 6, 2: 12, 3: 46, 4: 46, 5: 14, 6: 16, 7: 20, 8: 10, 9: 12, 10: 20}


def build_two_row_ledger(name, title, filing, items, groups, blank_after, foot,
                         split_filing=False, trailing_blank=2):
    """The layout of county_a_round2: title, 填报 row, two-row header, items, footnotes."""
    sh = Sheet(name, len(A_HEAD))
    sh.widths = dict(A_WIDTHS)
    sh.text_cols = {A_COL["dl"]}
    n = len(A_HEAD)
    sh.merge(1, 1, 1, n, title)
    sh.kind[1] = "title"
    if split_filing:
        unit, date = filing
        sh.merge(2, 1, 2, 5, unit)
        sh.merge(2, 6, 2, n, date)
    else:
        sh.merge(2, 1, 2, n, filing)
    sh.kind[2] = "filing"
    # two-row header: 责任分工 over 责任领导 / 责任单位 / 责任人
    for col, text in enumerate(A_HEAD, 1):
        if col in (6, 7, 8):
            sh.put(4, col, text)
        else:
            sh.merge(3, col, 4, col, text)
    sh.merge(3, 6, 3, 8, "责任分工")
    sh.kind[3] = sh.kind[4] = "header"
    row = 5
    item_rows = {}
    blank_rows = []
    for i, it in enumerate(items, 1):
        item_rows[i] = row
        sh.kind[row] = "item"
        row += 1
        for _ in range(blank_after.get(i, 0)):
            sh.kind[row] = "blank"
            blank_rows.append(row)
            row += 1
    merged_at = {}
    for field, spans in groups.items():
        for a, b in spans:
            vals = {items[k - 1][field] for k in range(a, b + 1)}
            assert len(vals) == 1, (field, a, b, vals)
            col = A_COL[field]
            for k in range(a, b + 1):
                merged_at[(k, field)] = (a, b)
            sh.merge(item_rows[a], col, item_rows[b], col, items[a - 1][field])
    for i, it in enumerate(items, 1):
        r = item_rows[i]
        for field, col in A_COL.items():
            if (i, field) in merged_at:
                continue
            sh.put(r, col, it[field])
    for _ in range(trailing_blank):
        sh.kind[row] = "blank"
        blank_rows.append(row)
        row += 1
    foot_rows = []
    for text in foot:
        sh.merge(row, 1, row, n, text)
        sh.kind[row] = "foot"
        foot_rows.append(row)
        row += 1
    layout = dict(title_rows=[1], filing_rows=[2], header_rows=[3, 4],
                  item_rows=[item_rows[i] for i in sorted(item_rows)],
                  blank_rows=blank_rows, footnote_rows=foot_rows,
                  merged_vertically={f: [f"{_col_letter(A_COL[f])}{item_rows[a]}:"
                                         f"{_col_letter(A_COL[f])}{item_rows[b]}" for a, b in sp]
                                     for f, sp in groups.items()})
    return sh, item_rows, layout


def _col_letter(c):
    return openpyxl.utils.get_column_letter(c)


def build_multisheet():
    sheets = []
    instr = Sheet("填表说明", 1)
    instr.widths = {1: 90}
    for r, text in enumerate(M_INSTRUCTIONS, 1):
        instr.put(r, 1, text)
        instr.kind[r] = "title" if r == 1 else "foot"
    sheets.append(instr)
    layouts = {}
    n = len(M_HEADER)
    for sname, items in M_SHEETS.items():
        sh = Sheet(sname, n)
        sh.widths = {1: 6, 2: 44, 3: 36, 4: 20, 5: 20, 6: 10, 7: 12, 8: 36, 9: 10, 10: 12, 11: 16}
        sh.text_cols = {7}
        sh.merge(1, 1, 1, n, f"县委第二轮巡察反馈问题整改台账（{sname}）")
        sh.kind[1] = "title"
        sh.merge(2, 1, 2, n, "填报单位（盖章）：县委巡察办　　　　　　填报日期：2026年11月20日")
        sh.kind[2] = "filing"
        for c, h in enumerate(M_HEADER, 1):
            sh.put(3, c, h)
        sh.kind[3] = "header"
        rows = []
        for i, it in enumerate(items):
            r = 4 + i
            rows.append(r)
            sh.kind[r] = "item"
            vals = [it["id"], it["problem"], it["plan"], it["lead_cell"], it["co_cell"], it["owner"],
                    it["dl"], it["progress"], it["status_cell"], it["evidence"], it["note"]]
            for c, v in enumerate(vals, 1):
                sh.put(r, c, v)
        r = rows[-1] + 1
        sh.kind[r] = "blank"
        layouts[sname] = dict(title_rows=[1], filing_rows=[2], header_rows=[3], item_rows=rows,
                              blank_rows=[r], footnote_rows=[])
        sheets.append(sh)
    stat = Sheet("统计表", 5)
    stat.widths = {1: 18, 2: 10, 3: 10, 4: 10, 5: 10}
    stat.merge(1, 1, 1, 5, "县委第二轮巡察反馈问题整改情况统计表")
    for c, h in enumerate(["问题类别", "问题总数", "已完成", "正在整改", "完成率"], 1):
        stat.put(2, c, h)
    stat.put(3, 1, "形式主义问题"); stat.put(3, 2, 5); stat.put(3, 3, 1); stat.put(3, 4, 3); stat.put(3, 5, "20%")
    stat.put(4, 1, "官僚主义问题"); stat.put(4, 2, 4); stat.put(4, 3, 1); stat.put(4, 4, 2); stat.put(4, 5, "25%")
    stat.put(5, 1, "合计"); stat.put(5, 2, 9); stat.put(5, 3, 2); stat.put(5, 4, 5); stat.put(5, 5, "22%")
    for r in range(1, 6):
        stat.kind[r] = "header" if r <= 2 else "item"
    sheets.append(stat)
    return sheets, layouts


def simple_sheet(name, title, filing, header, rows, widths=None, text_cols=()):
    """title (optional), 填报 row (optional), one header row, data rows."""
    sh = Sheet(name, len(header))
    sh.widths = widths or {}
    sh.text_cols = set(text_cols)
    r = 1
    layout = dict(title_rows=[], filing_rows=[], header_rows=[], item_rows=[], blank_rows=[],
                  footnote_rows=[])
    if title:
        sh.merge(r, 1, r, len(header), title); sh.kind[r] = "title"; layout["title_rows"].append(r); r += 1
    if filing:
        sh.merge(r, 1, r, len(header), filing); sh.kind[r] = "filing"; layout["filing_rows"].append(r); r += 1
    for c, h in enumerate(header, 1):
        sh.put(r, c, h)
    sh.kind[r] = "header"; layout["header_rows"].append(r); r += 1
    for vals in rows:
        if vals is None:
            sh.kind[r] = "blank"; layout["blank_rows"].append(r); r += 1; continue
        for c, v in enumerate(vals, 1):
            sh.put(r, c, v)
        sh.kind[r] = "item"; layout["item_rows"].append(r); r += 1
    return sh, layout


# ----------------------------------------------------------------------------------------
# Writers
# ----------------------------------------------------------------------------------------
XLSX_DATE = 'yyyy"年"m"月"d"日"'
XLSX_DATETIME = "yyyy/m/d h:mm"


def write_xlsx(path, sheets):
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    thin = Side(style="thin", color="000000")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    head_fill = PatternFill("solid", fgColor="D9D9D9")
    for sh in sheets:
        ws = wb.create_sheet(sh.name)
        nrows = sh.nrows
        for r in range(1, nrows + 1):
            kind = sh.kind.get(r, "blank")
            for c in range(1, max(sh.ncols, 1) + 1):
                v = sh.cells.get((r, c))
                cell = ws.cell(r, c)
                if v is not None:
                    cell.value = v
                if isinstance(v, dt.datetime):
                    cell.number_format = XLSX_DATETIME
                elif isinstance(v, dt.date):
                    cell.number_format = XLSX_DATE
                elif c in sh.text_cols and kind == "item":
                    cell.number_format = "@"
                if kind == "title":
                    cell.font = Font(name="方正小标宋简体", size=18, bold=True)
                    cell.alignment = Alignment(horizontal="center", vertical="center")
                elif kind == "filing":
                    cell.font = Font(name="仿宋_GB2312", size=12)
                    cell.alignment = Alignment(horizontal="left", vertical="center")
                elif kind == "header":
                    cell.font = Font(name="黑体", size=11, bold=True)
                    cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
                    cell.fill = head_fill
                    cell.border = border
                elif kind in ("item", "blank"):
                    cell.font = Font(name="仿宋_GB2312", size=11)
                    cell.alignment = Alignment(vertical="center", wrap_text=True)
                    if kind == "item" or any(sh.kind.get(x) == "item" for x in (r - 1,)):
                        cell.border = border
                elif kind == "foot":
                    cell.font = Font(name="仿宋_GB2312", size=10)
                    cell.alignment = Alignment(horizontal="left", vertical="center", wrap_text=True)
            if kind == "title":
                ws.row_dimensions[r].height = 36
        for (r1, c1, r2, c2) in sh.merges:
            ws.merge_cells(start_row=r1, start_column=c1, end_row=r2, end_column=c2)
        for c, w in sh.widths.items():
            ws.column_dimensions[_col_letter(c)].width = w
        if any(k == "header" for k in sh.kind.values()):
            last_head = max(r for r, k in sh.kind.items() if k == "header")
            ws.freeze_panes = ws.cell(last_head + 1, 1)
    wb.save(path)


def write_xls(path, sheets):
    wb = xlwt.Workbook(encoding="utf-8")
    base = "font: name 仿宋_GB2312, height 220; align: vert centre, wrap on; " \
           "borders: left thin, right thin, top thin, bottom thin"
    st = {
        "title": xlwt.easyxf("font: name 方正小标宋简体, height 360, bold on; align: horiz centre, vert centre"),
        "filing": xlwt.easyxf("font: name 仿宋_GB2312, height 240; align: horiz left, vert centre"),
        "header": xlwt.easyxf("font: name 黑体, height 220, bold on; align: horiz centre, vert centre, wrap on; "
                              "borders: left thin, right thin, top thin, bottom thin; "
                              "pattern: pattern solid, fore_colour gray25"),
        "item": xlwt.easyxf(base),
        "text": xlwt.easyxf(base, num_format_str="@"),
        "date": xlwt.easyxf(base, num_format_str=XLSX_DATE),
        "datetime": xlwt.easyxf(base, num_format_str=XLSX_DATETIME),
        "foot": xlwt.easyxf("font: name 仿宋_GB2312, height 200; align: horiz left, vert centre, wrap on"),
        "blank": xlwt.easyxf("font: name 仿宋_GB2312, height 220"),
    }

    def style(sh, r, c, v):
        kind = sh.kind.get(r, "blank")
        if isinstance(v, dt.datetime):
            return st["datetime"]
        if isinstance(v, dt.date):
            return st["date"]
        if kind == "item" and c in sh.text_cols:
            return st["text"]
        return st.get(kind, st["item"])

    for sh in sheets:
        ws = wb.add_sheet(sh.name, cell_overwrite_ok=False)
        tops = {}
        for (r1, c1, r2, c2) in sh.merges:
            v = sh.cells.get((r1, c1), "")
            ws.write_merge(r1 - 1, r2 - 1, c1 - 1, c2 - 1, v, style(sh, r1, c1, v))
            tops[(r1, c1)] = True
        covered = sh.covered()
        for (r, c), v in sorted(sh.cells.items()):
            if (r, c) in tops or (r, c) in covered:
                continue
            ws.write(r - 1, c - 1, v, style(sh, r, c, v))
        for c, w in sh.widths.items():
            ws.col(c - 1).width = int(w * 256)
    wb.save(str(path))


def write_ods(path, sheets):
    doc = OpenDocumentSpreadsheet()
    ds = odfnum.DateStyle(name="N_DATE")
    ds.addElement(odfnum.Year(style="long")); ds.addElement(odfnum.Text(text="年"))
    ds.addElement(odfnum.Month(style="short")); ds.addElement(odfnum.Text(text="月"))
    ds.addElement(odfnum.Day(style="short")); ds.addElement(odfnum.Text(text="日"))
    doc.automaticstyles.addElement(ds)
    dts = odfnum.DateStyle(name="N_DATETIME")
    dts.addElement(odfnum.Year(style="long")); dts.addElement(odfnum.Text(text="/"))
    dts.addElement(odfnum.Month(style="short")); dts.addElement(odfnum.Text(text="/"))
    dts.addElement(odfnum.Day(style="short")); dts.addElement(odfnum.Text(text=" "))
    dts.addElement(odfnum.Hours(style="short")); dts.addElement(odfnum.Text(text=":"))
    dts.addElement(odfnum.Minutes(style="long"))
    doc.automaticstyles.addElement(dts)
    c_date = Style(name="ce_date", family="table-cell", datastylename="N_DATE")
    c_dt = Style(name="ce_datetime", family="table-cell", datastylename="N_DATETIME")
    c_head = Style(name="ce_head", family="table-cell")
    c_head.addElement(TableCellProperties(backgroundcolor="#d9d9d9", border="0.5pt solid #000000"))
    c_head.addElement(TextProperties(fontweight="bold"))
    c_head.addElement(ParagraphProperties(textalign="center"))
    c_title = Style(name="ce_title", family="table-cell")
    c_title.addElement(TextProperties(fontsize="18pt", fontweight="bold"))
    c_title.addElement(ParagraphProperties(textalign="center"))
    for s in (c_date, c_dt, c_head, c_title):
        doc.automaticstyles.addElement(s)
    col_styles = {}

    def col_style(w):
        key = round(w)
        if key not in col_styles:
            s = Style(name=f"co{key}", family="table-column")
            s.addElement(TableColumnProperties(columnwidth=f"{w * 0.19:.2f}cm"))
            doc.automaticstyles.addElement(s)
            col_styles[key] = s
        return col_styles[key]

    for sh in sheets:
        t = Table(name=sh.name)
        ncols = max([sh.ncols] + [c for _, c in sh.cells] + [1])
        for c in range(1, ncols + 1):
            t.addElement(TableColumn(stylename=col_style(sh.widths.get(c, 10))))
        covered = sh.covered()
        spans = {(m[0], m[1]): m for m in sh.merges}
        for r in range(1, sh.nrows + 1):
            tr = TableRow()
            kind = sh.kind.get(r)
            for c in range(1, ncols + 1):
                if (r, c) in covered:
                    tr.addElement(CoveredTableCell())
                    continue
                v = sh.cells.get((r, c))
                kw = {}
                if (r, c) in spans:
                    r1, c1, r2, c2 = spans[(r, c)]
                    if c2 > c1:
                        kw["numbercolumnsspanned"] = c2 - c1 + 1
                    if r2 > r1:
                        kw["numberrowsspanned"] = r2 - r1 + 1
                if kind == "header":
                    kw["stylename"] = c_head
                elif kind == "title":
                    kw["stylename"] = c_title
                if v is None:
                    cell = TableCell(**kw)
                elif isinstance(v, dt.datetime):
                    cell = TableCell(valuetype="date", datevalue=v.strftime("%Y-%m-%dT%H:%M:%S"),
                                     stylename=c_dt, **{k: x for k, x in kw.items() if k != "stylename"})
                    cell.addElement(P(text=f"{v.year}/{v.month}/{v.day} {v.hour}:{v.minute:02d}"))
                elif isinstance(v, dt.date):
                    cell = TableCell(valuetype="date", datevalue=v.isoformat(), stylename=c_date,
                                     **{k: x for k, x in kw.items() if k != "stylename"})
                    cell.addElement(P(text=f"{v.year}年{v.month}月{v.day}日"))
                elif isinstance(v, (int, float)):
                    cell = TableCell(valuetype="float", value=v, **kw)
                    cell.addElement(P(text=str(v)))
                else:
                    cell = TableCell(valuetype="string", **kw)
                    for line in str(v).split("\n"):
                        cell.addElement(P(text=line))
                tr.addElement(cell)
            t.addElement(tr)
        if sh.nrows == 0:          # an empty sheet still needs one row
            tr = TableRow(); tr.addElement(TableCell()); t.addElement(tr)
        doc.spreadsheet.addElement(t)
    doc.save(str(path))


def write_csv(path, rows, encoding):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    for row in rows:
        w.writerow(["" if v is None else v for v in row])
    Path(path).write_bytes(buf.getvalue().encode(encoding))


# ----------------------------------------------------------------------------------------
# Expectations
# ----------------------------------------------------------------------------------------
ROUND2 = {"label": "县委第二轮巡察", "number": 2}


def exp_item(row, it, **over):
    d = dict(
        row=row,
        id=str(it["id"]),
        problem_starts=it["problem"][:15],
        plan_starts=(it.get("plan") or "")[:15] or None,
        category=it.get("cat"),
        lead_unit=it["lead"],
        co_units=it["co"],
        owner=it.get("owner") or None,
        leader=it.get("leader") or None,
        deadline_raw=(f"<date-time cell {it['dl']:%Y-%m-%d %H:%M}, shown as "
                      f"{it['dl'].year}/{it['dl'].month}/{it['dl'].day} {it['dl'].hour}:{it['dl']:%M}>"
                      if isinstance(it["dl"], dt.datetime)
                      else f"<date cell {it['dl']:%Y-%m-%d}>" if isinstance(it["dl"], dt.date)
                      else it["dl"]),
        deadline=it["exp_dl"],
        status=it["status"],
        progress=it.get("progress") or None,
        note=it.get("note") or None,
    )
    if it["exp_dl"] == "immediate":
        d["deadline_if_imported_2026_12_01"] = IMMEDIATE_ON_IMPORT
    if it["exp_dl"] not in ("immediate", "standing"):
        d["past_at_import"] = it["exp_dl"] < IMPORT_DATE
    if it.get("dl_note"):
        d["why"] = it["dl_note"]
    if it.get("status_note"):
        d["status_why"] = it["status_note"]
    if it.get("unit_note"):
        d["unit_why"] = it["unit_note"]
    d.update(over)
    return d


# ----------------------------------------------------------------------------------------
# Main
# ----------------------------------------------------------------------------------------
def main():
    expected = {}

    # 1. county_a_round2.xlsx (+ .xls, .et, .ods)
    a_sheet, a_rows, a_layout = build_two_row_ledger(
        "整改台账", "县委第二轮巡察反馈问题整改台账",
        "填报单位：县委巡察办　　　　　　　　　　　　填报日期：2026年11月20日",
        A_ITEMS, A_GROUPS, A_BLANK_AFTER, A_FOOT)
    empty = Sheet("Sheet2", 0)
    a_sheets = [a_sheet, empty]
    write_xlsx(OUT / "county_a_round2.xlsx", a_sheets)
    write_xls(OUT / "county_a_round2.xls", a_sheets)
    shutil.copyfile(OUT / "county_a_round2.xls", OUT / "county_a_round2.et")
    write_ods(OUT / "county_a_round2.ods", a_sheets)
    a_items = [exp_item(a_rows[i], it) for i, it in enumerate(A_ITEMS, 1)]
    a_exp = dict(
        county="县委 (county A; 填报单位 县委巡察办)",
        round=ROUND2, round_source="title row", filing_unit="县委巡察办",
        filing_date=FILING_DATE, reference_date=FILING_DATE,
        sheets_read=["整改台账"], sheets_skipped={"Sheet2": "empty sheet"},
        layout=a_layout, item_count=len(a_items),
        columns={"A": "序号 → id", "B": "问题类别 → category", "C": "反馈问题 → problem",
                 "D": "整改措施 → plan", "E": "整改时限 → deadline",
                 "F": "责任分工/责任领导 → leader", "G": "责任分工/责任单位 → unit",
                 "H": "责任分工/责任人 → owner",
                 "I": "完成情况 → progress (and status, as there is no separate status column)",
                 "J": "备注 → note"},
        items=a_items)
    expected["county_a_round2.xlsx"] = a_exp
    for ext, note in (("xls", "BIFF8 .xls written by xlwt; merges, real date and date-time cells, "
                              "text cell '46387' as in the xlsx"),
                      ("et", "byte-for-byte copy of county_a_round2.xls (WPS .et is the same "
                             "OLE2/BIFF compound-document format); detect by content, not extension"),
                      ("ods", "OpenDocument, written by odfpy; merges via number-rows/columns-spanned "
                              "+ covered cells; dates as office:date-value")):
        expected[f"county_a_round2.{ext}"] = {"same_as": "county_a_round2.xlsx", "note": note}

    # 2. county_a_multisheet.xlsx
    m_sheets, m_layouts = build_multisheet()
    write_xlsx(OUT / "county_a_multisheet.xlsx", m_sheets)
    m_items = {}
    for sname, items in M_SHEETS.items():
        rows = m_layouts[sname]["item_rows"]
        m_items[sname] = [exp_item(rows[k], it, category=None, leader=None,
                                   extra={"佐证材料": it["evidence"]} if it["evidence"] else {})
                          for k, it in enumerate(items)]
    expected["county_a_multisheet.xlsx"] = dict(
        county="县委 (county A)", round=ROUND2, round_source="title row of each ledger sheet",
        filing_date=FILING_DATE, reference_date=FILING_DATE,
        sheets_read=list(M_SHEETS),
        sheets_skipped={"填表说明": "instructions only; its lines quote header words (“问题表现”, "
                                    "“牵头单位”“配合单位”) inside sentences but it has no header row",
                        "统计表": "summary table (问题类别/问题总数/已完成/...): no problem/unit/deadline "
                                  "columns, not a ledger, although its title names the round"},
        layout=m_layouts,
        columns={"序号": "id", "问题表现": "problem", "整改目标": "plan", "牵头单位": "unit (lead; "
                 "a second unit in the cell becomes a co-unit)", "配合单位": "co-units",
                 "责任人": "owner", "完成时限": "deadline", "整改进展": "progress",
                 "整改状态": "status", "佐证材料": "unknown column, kept as extra", "备注": "note"},
        ids_restart_per_sheet=("each sheet numbers its rows 1,2,3...; 形式主义问题 #1 and 官僚主义问题 #1 "
                               "are different items and must both exist after import"),
        category_note=("no 问题类别 column: category is null in the items below; an importer that "
                       "takes the sheet name as the category (形式主义问题 / 官僚主义问题) is also right"),
        item_count=sum(len(v) for v in m_items.values()),
        items=m_items)

    # 3. county_b_round2.xlsx
    b_sheet, b_rows, b_layout = build_two_row_ledger(
        "整改台账", "某某县委第二轮巡察反馈问题整改台账",
        ("填报单位：某某县委巡察办", "填报日期：2026年11月20日"),
        B_ITEMS, B_GROUPS, {}, B_FOOT, split_filing=True, trailing_blank=1)
    write_xlsx(OUT / "county_b_round2.xlsx", [b_sheet])
    b_layout["filing_note"] = "填报单位 in A2:E2 and 填报日期 in F2:J2 (two merged cells, unlike county A)"
    expected["county_b_round2.xlsx"] = dict(
        county="某某县委 (county B; 填报单位 某某县委巡察办)",
        round={"label": "某某县委第二轮巡察", "number": 2}, round_source="title row",
        filing_unit="某某县委巡察办", filing_date=FILING_DATE, reference_date=FILING_DATE,
        sheets_read=["整改台账"], sheets_skipped={}, layout=b_layout, item_count=len(B_ITEMS),
        items=[exp_item(b_rows[i], it) for i, it in enumerate(B_ITEMS, 1)],
        import_after_county_a=("import county_a_round2.xlsx, then this file: the store holds 14 + 6 = 20 "
                               "items; county A's items 1-6 keep their problem, unit, deadline and status "
                               "(same round number 2 and same ids 1-6, but another county/ledger)"))

    # 4. CSV files
    csv_exp = {}
    # 4a UTF-8, round column, 编号 ids
    u8_head = ["编号", "巡察轮次", "问题类别", "问题描述", "整改措施", "责任单位", "配合单位", "责任人",
               "整改时限", "整改情况", "备注"]
    u8 = [
        dict(id="XC2-01", cat="形式主义", problem="部分村（社区）工作群过多，群内频繁要求“接龙”回复、定位打卡，基层干部不堪其扰。",
             plan="清理整合村级工作群，取消接龙、定位打卡等要求。", units="县委网信办", co_cell="各乡镇人民政府",
             lead="县委网信办", co=["各乡镇人民政府"], owner="许鹏", dl="2026/12/31 0:00", exp_dl="2026-12-31",
             progress="已完成", status="closed", note="",
             dl_note="a WPS date-time cell exported to CSV as text"),
        dict(id="XC2-02", cat="官僚主义", problem="县人社局社保待遇资格认证“一刀切”，要求行动不便的老年人到现场认证。",
             plan="1.推行“静默认证”；\n2.为行动不便老人提供上门认证服务。", units="县人社局", co_cell="",
             lead="县人社局", co=[], owner="黄磊", dl="2026.12.31", exp_dl="2026-12-31",
             progress="正在整改", status="in_progress", note="",
             dl_note="dotted date: not in the issue's list but common in county offices; plan has an "
                     "embedded line break inside a quoted CSV field"),
        dict(id="XC2-03", cat="为基层减负", problem="部分部门借“属地管理”名义向乡镇摊派招商引资任务, 并层层签订责任书。",
             plan="全面清理向乡镇摊派的招商引资任务，取消层层签订责任书。", units="县商务局", co_cell="县发改局",
             lead="县商务局", co=["县发改局"], owner="唐军", dl="1月底", exp_dl="2027-01-31",
             progress="", status="open", note="已约谈相关负责人",
             dl_note="no 填报日期: the next end of January on or after the import date 2026-12-01; "
                     "problem text holds an ASCII comma inside a quoted field"),
        dict(id="XC2-04", cat="干部作风", problem="个别干部对群众诉求“冷硬横推”，“12345”热线工单敷衍回复。",
             plan="建立热线工单回访抽查机制，对敷衍回复的通报批评。", units="县政务服务中心", co_cell="",
             lead="县政务服务中心", co=[], owner="孙丽", dl="长期坚持", exp_dl="standing",
             progress="推进中", status="in_progress", note=""),
        dict(id="XC2-05", cat="形式主义", problem="部分部门以“填表”代替“调研”，要求乡镇限时上报各类调查问卷。",
             plan="规范调查问卷下发，未经县委办审核的一律不得下发。", units="县委办公室", co_cell="",
             lead="县委办公室", co=[], owner="刘文斌", dl="12月底", exp_dl="2026-12-31",
             progress="", status="open", note=""),
    ]
    rows = [u8_head] + [[it["id"], "县委第二轮巡察", it["cat"], it["problem"], it["plan"], it["units"],
                         it["co_cell"], it["owner"], it["dl"], it["progress"], it["note"]] for it in u8]
    write_csv(OUT / "ledger_utf8.csv", rows, "utf-8")
    csv_exp["ledger_utf8.csv"] = dict(
        encoding="UTF-8 without BOM, CRLF line ends", round=ROUND2,
        round_source="巡察轮次 column (县委第二轮巡察 on every row)", filing_date=None,
        reference_date=IMPORT_DATE, layout=dict(header_rows=[1], item_rows=[2, 3, 4, 5, 6],
                                                 csv_note="row numbers are CSV records; record 3 spans two physical lines"),
        columns={"编号": "id", "巡察轮次": "round", "问题类别": "category", "问题描述": "problem",
                 "整改措施": "plan", "责任单位": "unit", "配合单位": "co-units", "责任人": "owner",
                 "整改时限": "deadline", "整改情况": "progress (and status)", "备注": "note"},
        items=[exp_item(2 + k, it, leader=None) for k, it in enumerate(u8)])

    # 4b UTF-8 with BOM, title line, footnote line, alternative names
    bom_head = ["序号", "问题类别", "存在问题", "整改举措", "整改期限", "责任领导", "责任单位", "具体责任人",
                "完成情况", "备注"]
    bom = [
        dict(id=1, cat="形式主义问题", problem="会议活动过多过频，部分乡镇党委书记一周内参加县级会议5次以上。",
             plan="建立县级会议统筹报备制度，每月下旬统筹安排次月会议。", leader="王立新", units="县委办公室",
             lead="县委办公室", co=[], owner="刘文斌", dl="12月底", exp_dl="2026-12-31",
             progress="正在整改", status="in_progress", note="",
             dl_note="no 填报日期: the next end of December on or after 2026-12-01"),
        dict(id=2, cat="形式主义问题", problem="“一刀切”要求基层报送工作亮点、经验材料，材料层层加码。",
             plan="取消无实质内容的经验材料报送，每季度只报一次工作信息。", leader="王立新",
             units="县委办公室、县政府办公室", lead="县委办公室", co=["县政府办公室"], owner="刘文斌",
             dl="2027年1月31日前", exp_dl="2027-01-31", progress="", status="open", note=""),
        dict(id=3, cat="官僚主义问题", problem="县卫健局对基层医疗机构反映的药品配送不及时问题长期未解决。",
             plan="约谈配送企业，建立短缺药品快速调配机制。", leader="陈建华", units="县卫健局",
             lead="县卫健局", co=[], owner="吴敏", dl="立行立改", exp_dl="immediate",
             progress="已整改", status="closed", note="已约谈配送企业2家"),
        dict(id=4, cat="官僚主义问题", problem="河口镇便民服务中心工作人员上班时间脱岗离岗，群众多次反映。",
             plan="落实考勤和AB岗制度，公开值班电话。", leader="陈建华", units="河口镇人民政府",
             lead="河口镇人民政府", co=[], owner="冯涛", dl="2026年11月30日", exp_dl="2026-11-30",
             progress="", status="open", note="",
             dl_note="already past on the import date 2026-12-01: open and overdue"),
    ]
    ncol = len(bom_head)
    rows = ([["县委第二轮巡察反馈问题整改台账"] + [""] * (ncol - 1), bom_head]
            + [[it["id"], it["cat"], it["problem"], it["plan"], it["dl"], it["leader"], it["units"],
                it["owner"], it["progress"], it["note"]] for it in bom]
            + [[""] * ncol, ["注：本表由县委巡察办汇总，请于每月25日前更新。"] + [""] * (ncol - 1)])
    write_csv(OUT / "ledger_utf8_bom.csv", rows, "utf-8-sig")
    csv_exp["ledger_utf8_bom.csv"] = dict(
        encoding="UTF-8 with BOM (EF BB BF), CRLF", round=ROUND2,
        round_source="title line (record 1, the way WPS exports a sheet with a merged title)",
        filing_date=None, reference_date=IMPORT_DATE,
        layout=dict(title_rows=[1], header_rows=[2], item_rows=[3, 4, 5, 6], blank_rows=[7],
                    footnote_rows=[8]),
        columns={"存在问题": "problem", "整改举措": "plan", "整改期限": "deadline",
                 "具体责任人": "owner", "完成情况": "progress (and status)"},
        items=[exp_item(3 + k, it) for k, it in enumerate(bom)])

    # 4c GBK, title + 填报 lines, no 整改措施, status column
    gbk_head = ["序号", "具体问题", "责任部门", "协办单位", "责任人", "分管领导", "完成时间", "整改进展",
                "整改状态", "备注"]
    gbk = [
        dict(id=1, problem="县教育局督查检查频次过高，部分学校一学期迎接各类检查30余次。", units="县教育局",
             co_cell="县委督查室", lead="县教育局", co=["县委督查室"], owner="周志强", leader="李红梅",
             dl="12月底", exp_dl="2026-12-31", progress="已将进校检查纳入年度计划统一管理。",
             status_cell="已销号", status="closed", note=""),
        dict(id=2, problem="乡镇干部“5+2”“白加黑”被要求常态化加班值守，形式化值班问题突出。",
             units="县委组织部", co_cell="", lead="县委组织部", co=[], owner="赵海波", leader="王立新",
             dl="2026年12月", exp_dl="2026-12-31", progress="已出台规范乡镇值班值守的通知。",
             status_cell="正在整改", status="in_progress", note=""),
        dict(id=3, problem="河口镇、石桥镇村级“小微权力”清单流于形式，公开栏内容长期不更新。",
             units="河口镇人民政府、石桥镇人民政府", co_cell="县民政局", lead="河口镇人民政府",
             co=["石桥镇人民政府", "县民政局"], owner="冯涛", leader="陈建华", dl="持续推进",
             exp_dl="standing", progress="", status_cell="", status="open", note="每季度更新一次"),
        dict(id=4, problem="县卫健局基层医疗机构绩效考核指标过细，台账资料要求过多。", units="县卫健局",
             co_cell="", lead="县卫健局", co=[], owner="吴敏", leader="陈建华", dl="2026/12/31",
             exp_dl="2026-12-31", progress="考核指标已由46项压减至18项。", status_cell="推进中",
             status="in_progress", note=""),
    ]
    ncol = len(gbk_head)
    rows = ([["县委第二轮巡察反馈问题整改台账"] + [""] * (ncol - 1),
             ["填报单位：县委巡察办", "", "", "", "", "填报日期：2026年11月20日", "", "", "", ""],
             gbk_head]
            + [[it["id"], it["problem"], it["units"], it["co_cell"], it["owner"], it["leader"], it["dl"],
                it["progress"], it["status_cell"], it["note"]] for it in gbk])
    write_csv(OUT / "ledger_gbk.csv", rows, "gbk")
    csv_exp["ledger_gbk.csv"] = dict(
        encoding="GBK (cp936), CRLF; not valid UTF-8", round=ROUND2, round_source="title line",
        filing_date=FILING_DATE, reference_date=FILING_DATE,
        layout=dict(title_rows=[1], filing_rows=[2], header_rows=[3], item_rows=[4, 5, 6, 7]),
        columns={"具体问题": "problem", "责任部门": "unit", "协办单位": "co-units",
                 "分管领导": "leader", "完成时间": "deadline", "整改进展": "progress",
                 "整改状态": "status"},
        no_plan_column="there is no 整改措施 column: plan is null, the import must not refuse",
        items=[exp_item(4 + k, dict(it, cat=None, plan=None)) for k, it in enumerate(gbk)])

    # 4d GB18030 with 𠮷 (U+20BB7, outside GBK), no title, no round
    g18_head = ["问题编号", "问题类型", "问题", "责任单位", "责任人", "整改时限", "完成情况", "备注"]
    g18 = [
        dict(id="2-01", cat="形式主义", problem="石桥镇𠮷塘村村务公开栏“上墙”材料过多，制度牌、流程图重复张贴。",
             units="石桥镇𠮷塘村村民委员会", lead="石桥镇𠮷塘村村民委员会", co=[], owner="𠮷永福",
             dl="12月31日", exp_dl="2026-12-31", progress="已完成", status="closed", note=""),
        dict(id="2-02", cat="形式主义", problem="𠮷塘村被要求每月报送“美丽庭院”创建照片不少于50张。",
             units="石桥镇人民政府、石桥镇𠮷塘村村民委员会", lead="石桥镇人民政府",
             co=["石桥镇𠮷塘村村民委员会"], owner="彭勇", dl="3月底", exp_dl="2027-03-31",
             progress="正在整改", status="in_progress", note=""),
        dict(id="2-03", cat="官僚主义", problem="县水利局对石桥镇反映的灌溉渠道损毁问题未及时处置。",
             units="县水利局", lead="县水利局", co=[], owner="邱亮", dl="立行立改", exp_dl="immediate",
             progress="", status="open", note=""),
        dict(id="2-04", cat="官僚主义", problem="部分站所对村民办事“只收不办”，材料收取后长期无回音。",
             units="县政务服务中心 石桥镇人民政府", lead="县政务服务中心", co=["石桥镇人民政府"],
             owner="孙丽", dl="2026年底", exp_dl="2026-12-31", progress="推进中", status="in_progress",
             note=""),
    ]
    rows = [g18_head] + [[it["id"], it["cat"], it["problem"], it["units"], it["owner"], it["dl"],
                          it["progress"], it["note"]] for it in g18]
    write_csv(OUT / "ledger_gb18030.csv", rows, "gb18030")
    csv_exp["ledger_gb18030.csv"] = dict(
        encoding="GB18030, CRLF; 𠮷 (U+20BB7) is the 4-byte sequence 95 34 B2 35, so decoding as GBK "
                 "fails or garbles it; the decoded text must contain 𠮷",
        round=None, round_source=("none: no title, no round column; without --round the import must "
                                  "refuse; with --round 2 (县委第二轮巡察) the items below"),
        filing_date=None, reference_date=IMPORT_DATE,
        layout=dict(header_rows=[1], item_rows=[2, 3, 4, 5]),
        columns={"问题编号": "id", "问题类型": "category", "问题": "problem",
                 "完成情况": "progress (and status)"},
        no_plan_column="there is no 整改措施 column: plan is null",
        items=[exp_item(2 + k, dict(it, plan=None), leader=None) for k, it in enumerate(g18)])
    expected.update(csv_exp)

    # 5. no_round.xlsx and no_round_plain_title.xlsx
    nr_head = ["序号", "问题类别", "反馈问题", "整改措施", "整改时限", "责任单位", "责任人", "完成情况", "备注"]
    nr = [
        dict(id=1, cat="形式主义问题", problem="部分部门要求乡镇每周报送工作动态，报送内容大量重复。",
             plan="取消周报制度，改为按需报送。", units="县委办公室", lead="县委办公室", co=[], owner="刘文斌",
             dl="12月底", exp_dl="2026-12-31", progress="", status="open", note=""),
        dict(id=2, cat="形式主义问题", problem="政务APP学习积分层层排名通报，基层干部“刷分”应付。",
             plan="取消学习积分排名通报。", units="县委宣传部", lead="县委宣传部", co=[], owner="蒋芳",
             dl="立行立改", exp_dl="immediate", progress="已完成", status="closed", note=""),
        dict(id=3, cat="官僚主义问题", problem="县自然资源局窗口对群众咨询“一问三不知”。",
             plan="开展窗口人员业务培训，推行首问负责制。", units="县自然资源局", lead="县自然资源局", co=[],
             owner="曹丽娟", dl="2027年6月", exp_dl="2027-06-30", progress="", status="open", note=""),
    ]
    nr_rows = [[it["id"], it["cat"], it["problem"], it["plan"], it["dl"], it["units"], it["owner"],
                it["progress"], it["note"]] for it in nr]
    widths = {1: 6, 2: 12, 3: 44, 4: 36, 5: 12, 6: 16, 7: 10, 8: 10, 9: 12}
    sh, lay = simple_sheet("Sheet1", None, None, nr_head, nr_rows, widths, text_cols=[5])
    write_xlsx(OUT / "no_round.xlsx", [sh])
    refuse = ("refuse the whole file, import nothing, and say how to give the round: the --round option, "
              "a round column (e.g. 巡察轮次), or a title row such as 县委第二轮巡察反馈问题整改台账")
    expected["no_round.xlsx"] = dict(
        round=None, expect=refuse, filing_date=None, reference_date=IMPORT_DATE, layout=lay,
        items_if_round_given=[exp_item(lay["item_rows"][k], it, leader=None) for k, it in enumerate(nr)])
    sh, lay2 = simple_sheet("整改台账", "巡察反馈问题整改台账", None, nr_head, nr_rows, widths, text_cols=[5])
    write_xlsx(OUT / "no_round_plain_title.xlsx", [sh])
    expected["no_round_plain_title.xlsx"] = dict(
        round=None, expect=refuse + " (the title names no 第N轮; it must not be read as a round)",
        filing_date=None, reference_date=IMPORT_DATE, layout=lay2,
        items_if_round_given=[exp_item(lay2["item_rows"][k], it, leader=None) for k, it in enumerate(nr)])

    # 6. broken files
    br_head = ["序号", "问题类别", "反馈问题", "整改措施", "整改时限", "责任单位", "责任人", "完成情况", "备注"]
    br_rows = [
        [1, "形式主义问题", "部分单位“文件落实文件”，转发上级文件不结合实际提出具体措施。",
         "严格控制转发文件，确需转发的须提出具体贯彻措施。", "12月底", "县委办公室", "刘文斌", "", ""],
        [2, "形式主义问题", "", "压减学校各类报表，建立报表准入制度。", "2026年12月", "县教育局", "周志强", "", ""],
        [3, "形式主义问题", "部分乡镇“为检查而整改”，整改材料多、实际成效少。", "开展整改成效“回头看”。",
         "尽快", "县委巡察办", "钱志刚", "", ""],
        [4, "官僚主义问题", "县卫健局对乡镇卫生院反映的人员编制问题久拖不决。", "会同编办研究解决乡镇卫生院编制问题。",
         "2027年3月", "县卫建局", "吴敏", "推进中", ""],
        [5, "官僚主义问题", "县住建局农村危房改造验收走过场。", "开展农村危房改造质量抽查。",
         "2026年13月", "县住建局", "梁超", "", ""],
        [6, "官僚主义问题", "县市场监管局对群众投诉食品安全问题处置不及时。", "建立投诉举报限时办结制度。",
         "2026/2/30", "县市场监管局", "宋佳", "", ""],
        [6, "官僚主义问题", "部分窗口单位“一次性告知”不到位，群众多次往返。", "全面推行“一次性告知”清单。",
         "2026年底", "县政务服务中心", "孙丽", "正在整改", ""],
        [8, None, None, None, None, None, None, None, None],
        [9, None, None, None, None, None, None, None, None],
    ]
    sh, lay = simple_sheet("整改台账", "县委第二轮巡察反馈问题整改台账",
                           "填报单位：县委巡察办　　　　填报日期：2026年11月20日", br_head, br_rows,
                           widths, text_cols=[5])
    write_xlsx(OUT / "broken_rows.xlsx", [sh])
    expected["broken_rows.xlsx"] = dict(
        round=ROUND2, round_source="title row", filing_date=FILING_DATE, reference_date=FILING_DATE,
        layout=dict(lay, item_rows=[4, 5, 6, 7, 8, 9, 10], pre_numbered_empty_rows=[11, 12]),
        good_items=[
            exp_item(4, dict(id=1, cat="形式主义问题", problem=br_rows[0][2], plan=br_rows[0][3], dl="12月底",
                             exp_dl="2026-12-31", lead="县委办公室", co=[], owner="刘文斌", progress="",
                             status="open", note=""), leader=None),
            exp_item(7, dict(id=4, cat="官僚主义问题", problem=br_rows[3][2], plan=br_rows[3][3], dl="2027年3月",
                             exp_dl="2027-03-31", lead="县卫建局", co=[], owner="吴敏", progress="推进中",
                             status="in_progress", note="",
                             unit_note="县卫建局 is a typo of 县卫健局: keep it as written; if the bot knows "
                                       "its units it should warn (unknown unit, did you mean 县卫健局?)"),
                     leader=None),
        ],
        errors=[
            dict(row=5, column="C 反馈问题", id="2", why="problem text is empty although the row has "
                 "a plan, deadline and unit: not a blank row, an item without a problem"),
            dict(row=6, column="E 整改时限", id="3", value="尽快",
                 why="not a date, not 立行立改 / 长期坚持 / 持续推进 / 常态化: unreadable deadline"),
            dict(row=8, column="E 整改时限", id="5", value="2026年13月", why="month 13 does not exist"),
            dict(row=9, column="E 整改时限", id="6", value="2026/2/30", why="30 February does not exist"),
            dict(row=10, column="A 序号", id="6", why="duplicate 序号 6 (row 9 has 6 too; 7 was meant). "
                 "Must be reported or the second row kept as a separate item; it must never silently "
                 "overwrite row 9. Its own data is valid (deadline 2026年底 → 2026-12-31, 县政务服务中心, "
                 "正在整改 → in_progress)"),
        ],
        ignore=[dict(rows=[11, 12], why="template rows pre-numbered 8 and 9 with nothing else filled: treat "
                     "as blank (a warning is acceptable), never as items")],
        policy_note=("the issue does not say whether one bad row rejects the whole file or only itself; "
                     "either way every error above must be reported with its row and column, and nothing "
                     "already in the store may change"))

    bad_head = ["序号", "事项", "责任单位", "整改时限", "备注"]
    rows = [bad_head,
            [1, "规范村级组织工作事务，清理不必要的证明事项。", "县民政局", "12月底", ""],
            [2, "精简县级部门向乡镇派发的报表。", "县统计局", "2027年3月", ""]]
    write_csv(OUT / "broken_no_problem_column.csv", rows, "utf-8")
    expected["broken_no_problem_column.csv"] = dict(
        round=None, expect=("refuse: no problem column in the header (事项 is not in the vocabulary); the "
                            "message should name the accepted problem headers (问题 / 问题描述 / 存在问题 / "
                            "反馈问题 / 问题表现 / 具体问题). It also has no round; either refusal is right, "
                            "naming both is best"),
        layout=dict(header_rows=[1], item_rows=[2, 3]))

    # 7. a layout beyond the issue: section rows (一、…) inside the table
    sec_head = ["序号", "反馈问题", "整改措施", "整改时限", "责任单位", "责任人", "完成情况"]
    sec_rows = [
        ["一、形式主义方面（2个）", None, None, None, None, None, None],
        [1, "部分部门会议通知随意，临时通知、层层陪会现象仍有发生。", "严格会议审批，会议通知至少提前1天下发。",
         "12月底", "县委办公室", "刘文斌", "正在整改"],
        [2, "过度留痕，部分工作要求“事事有记录、件件有照片”。", "清理规范工作留痕要求。",
         "2026年底", "县委组织部、县委编办", "赵海波", "已完成"],
        ["二、官僚主义方面（1个）", None, None, None, None, None, None],
        [3, "部分职能部门对乡镇请示事项久拖不复。", "建立请示事项限时答复制度。", "长期坚持",
         "县政府办公室", "钱志刚", ""],
    ]
    sh, lay = simple_sheet("整改台账", "县委第二轮巡察反馈问题整改台账", None, sec_head, sec_rows,
                           {1: 8, 2: 44, 3: 36, 4: 12, 5: 20, 6: 10, 7: 10}, text_cols=[4])
    for r in (3, 6):
        sh.merges.append((r, 1, r, len(sec_head)))
    write_xlsx(OUT / "extra_section_rows.xlsx", [sh])
    expected["extra_section_rows.xlsx"] = dict(
        beyond_issue=("not asked for by the issue, but common: section rows 一、… / 二、… merged across the "
                      "table. A good importer skips them (and may use them as the category); failing this "
                      "file is not a regression of the issue"),
        round=ROUND2, round_source="title row", filing_date=None, reference_date=IMPORT_DATE,
        layout=dict(title_rows=[1], header_rows=[2], section_rows=[3, 6], item_rows=[4, 5, 7]),
        items=[
            exp_item(4, dict(id=1, problem=sec_rows[1][1], plan=sec_rows[1][2], dl="12月底", exp_dl="2026-12-31",
                             lead="县委办公室", co=[], owner="刘文斌", progress="正在整改",
                             status="in_progress", note="", cat=None), leader=None,
                     category_acceptable="形式主义方面"),
            exp_item(5, dict(id=2, problem=sec_rows[2][1], plan=sec_rows[2][2], dl="2026年底",
                             exp_dl="2026-12-31", lead="县委组织部", co=["县委编办"], owner="赵海波",
                             progress="已完成", status="closed", note="", cat=None), leader=None,
                     category_acceptable="形式主义方面"),
            exp_item(7, dict(id=3, problem=sec_rows[4][1], plan=sec_rows[4][2], dl="长期坚持",
                             exp_dl="standing", lead="县政府办公室", co=[], owner="钱志刚", progress="",
                             status="open", note="", cat=None), leader=None,
                     category_acceptable="官僚主义方面"),
        ])

    # EXPECTED.yaml
    conventions = dict(
        reference_date=("month-only / 'end of' / month-day deadlines without a year take the next such date "
                        "on or after the ledger's 填报日期 (2026-11-20 where stated), else the import date, "
                        "which these expectations take as 2026-12-01"),
        deadline=("YYYY-MM-DD, or 'immediate' (立行立改: import date + 5 working days, 2026-12-08 for an "
                  "import on Tue 2026-12-01), or 'standing' (长期坚持 / 持续推进 / 常态化: no final deadline)"),
        status=("open / in_progress / closed. 已销号 已完成 已整改 → closed; 正在整改 推进中 → in_progress; "
                "empty → open. Where a file has no status column, status is read from the progress column "
                "(完成情况 / 整改情况), whose text is also kept as progress"),
        units=("a unit cell may hold several units separated by 、 ， , / or spaces: the first is the lead "
               "unit, the rest are co-units, followed by those of a 配合单位 / 协办单位 column"),
        past_at_import="deadline earlier than the import date 2026-12-01 (open items are then overdue)",
        problem_starts="the first 15 characters of the problem text",
        merged_cells="a vertically merged cell applies to every row it spans (filled down)",
        id="as written in 序号 / 编号 / 问题编号, compared as text ('1' for the number 1)",
        row="1-based sheet row (or CSV record) of the item",
        isolation=("each file is imported into an empty store unless a scenario says otherwise; the "
                   "xlsx/xls/et/ods versions of county A must give the same 14 items"),
    )
    doc = {"conventions": conventions, "files": expected}
    header = ("# What a correct importer should understand from each fixture in this folder.\n"
              "# Generated by make_ledgers.py; the expected values are hand-written there.\n")
    class NoAliasDumper(yaml.SafeDumper):
        def ignore_aliases(self, data):
            return True
    (OUT / "EXPECTED.yaml").write_text(
        header + yaml.dump(doc, Dumper=NoAliasDumper, allow_unicode=True, sort_keys=False, width=110),
        encoding="utf-8")


# ----------------------------------------------------------------------------------------
# Read-back checks
# ----------------------------------------------------------------------------------------
def check():
    import xlrd
    from python_calamine import CalamineWorkbook
    ok = True

    def fail(msg):
        nonlocal ok
        ok = False
        print("FAIL", msg)

    # openpyxl: merges really merged in the xlsx files
    wb = openpyxl.load_workbook(OUT / "county_a_round2.xlsx")
    ws = wb["整改台账"]
    merged = {str(r) for r in ws.merged_cells.ranges}
    for want in ("A1:J1", "A2:J2", "F3:H3", "A3:A4", "J3:J4", "G6:G7", "H6:H7", "G10:G12", "H10:H12",
                 "B5:B8", "F14:F16", "A22:J22"):
        if want not in merged:
            fail(f"xlsx merge {want} missing")
    if ws["E12"].value != "46387" or ws["E12"].data_type != "s":
        fail(f"E12 should be text 46387, got {ws['E12'].value!r} {ws['E12'].data_type}")
    if ws["E18"].value != dt.datetime(2027, 3, 31) or not ws["E18"].is_date:
        fail(f"E18 should be a date cell, got {ws['E18'].value!r}")
    if ws["E10"].value != dt.datetime(2026, 12, 31) or ws["E10"].number_format != XLSX_DATETIME:
        fail(f"E10 should be a date-time cell, got {ws['E10'].value!r} {ws['E10'].number_format}")
    print("openpyxl county_a_round2.xlsx merges:", len(merged), sorted(merged))

    # xlrd: the .xls and the .et
    for name in ("county_a_round2.xls", "county_a_round2.et"):
        book = xlrd.open_workbook(str(OUT / name), formatting_info=True)
        sh = book.sheet_by_name("整改台账")
        mr = {(a + 1, c + 1, b, d) for (a, b, c, d) in sh.merged_cells}   # r1,c1,r2,c2 1-based
        for want in ((1, 1, 1, 10), (3, 6, 3, 8), (6, 7, 7, 7), (10, 7, 12, 7), (10, 8, 12, 8)):
            if want not in mr:
                fail(f"{name} merge {want} missing")
        if sh.cell(11, 4).ctype != xlrd.XL_CELL_TEXT or sh.cell(11, 4).value != "46387":
            fail(f"{name} E12 not text")
        if sh.cell(17, 4).ctype != xlrd.XL_CELL_DATE:
            fail(f"{name} E18 not date")
        if sh.cell(9, 4).ctype != xlrd.XL_CELL_DATE:
            fail(f"{name} E10 not date")
        print(f"xlrd {name}: sheets {book.sheet_names()}, {sh.nrows} rows, {len(mr)} merges")

    # calamine: every spreadsheet opens; print the deadline column of county A
    for p in sorted(OUT.glob("*")):
        if p.suffix not in (".xlsx", ".xls", ".et", ".ods"):
            continue
        cw = CalamineWorkbook.from_path(str(p))
        info = []
        for n in cw.sheet_names:
            s = cw.get_sheet_by_name(n)
            rows = s.to_python()
            try:
                mcr = s.merged_cell_ranges
            except Exception as e:      # noqa: BLE001
                mcr = f"n/a ({e})"
            info.append(f"{n}:{len(rows)}r/merges={len(mcr) if isinstance(mcr, list) else mcr}")
        print("calamine", p.name, "|", "; ".join(info))
        if p.name.startswith("county_a_round2"):
            rows = cw.get_sheet_by_name("整改台账").to_python()
            dls = [r[4] for r in rows[4:19] if len(r) > 4]
            print("   deadlines:", dls)
            if rows[0][0] != "县委第二轮巡察反馈问题整改台账":
                fail(f"{p.name} title cell: {rows[0][0]!r}")
            if rows[5][6] != "县委组织部、县委编办" or rows[6][6] not in ("", None):
                fail(f"{p.name} merged unit G6:G7 read back as {rows[5][6]!r} / {rows[6][6]!r}")

    # ods: check spans with odfpy
    from odf.opendocument import load
    from odf.namespaces import TABLENS
    d = load(str(OUT / "county_a_round2.ods"))
    spans = 0
    for cell in d.spreadsheet.getElementsByType(TableCell):
        if cell.getAttrNS(TABLENS, "number-rows-spanned") or cell.getAttrNS(TABLENS, "number-columns-spanned"):
            spans += 1
    print("ods spanned cells:", spans)
    if spans != len(build_two_row_ledger("x", "t", "f", A_ITEMS, A_GROUPS, A_BLANK_AFTER, A_FOOT)[0].merges):
        fail("ods span count differs from the xlsx merges")

    # CSV encodings
    for name, enc in (("ledger_utf8.csv", "utf-8"), ("ledger_utf8_bom.csv", "utf-8-sig"),
                      ("ledger_gbk.csv", "gbk"), ("ledger_gb18030.csv", "gb18030"),
                      ("broken_no_problem_column.csv", "utf-8")):
        raw = (OUT / name).read_bytes()
        text = raw.decode(enc)
        recs = list(csv.reader(io.StringIO(text)))
        bom = raw[:3] == b"\xef\xbb\xbf"
        print(f"csv {name}: {len(raw)} bytes, BOM={bom}, {len(recs)} records, "
              f"first={recs[0][:3]}")
        if name == "ledger_gbk.csv":
            try:
                raw.decode("utf-8")
                fail("gbk file decodes as utf-8")
            except UnicodeDecodeError:
                pass
        if name == "ledger_gb18030.csv":
            if "𠮷" not in text:
                fail("no 𠮷 in gb18030 file")
            try:
                raw.decode("gbk")
                fail("gb18030 file decodes as gbk")
            except UnicodeDecodeError:
                pass
    if (OUT / "county_a_round2.et").read_bytes() != (OUT / "county_a_round2.xls").read_bytes():
        fail(".et differs from .xls")
    if (OUT / "county_a_round2.et").read_bytes()[:8] != bytes.fromhex("D0CF11E0A1B11AE1"):
        fail(".et is not an OLE2 compound document")
    y = yaml.safe_load((OUT / "EXPECTED.yaml").read_text(encoding="utf-8"))
    print("EXPECTED.yaml files:", list(y["files"]))
    print("ALL CHECKS PASSED" if ok else "SOME CHECKS FAILED")
    return ok


if __name__ == "__main__":
    main()
    sys.exit(0 if check() else 1)
