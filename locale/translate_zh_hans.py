"""Fill locale/zh_Hans/LC_MESSAGES/django.po from the table below, then compile it.

    python manage.py makemessages -l zh_Hans --ignore=.venv --ignore=tests --ignore=bench \
        --ignore=scripts --no-obsolete
    python locale/translate_zh_hans.py        # fills msgstr, writes django.mo (pure Python)

The table wins; entries it lacks keep the .po's translation (a fuzzy guess is dropped). The .mo is
committed so a fresh machine needs no gettext tools.
"""

from __future__ import annotations

import ast
import struct
import sys
from pathlib import Path

PO = Path(__file__).resolve().parent / "zh_Hans" / "LC_MESSAGES" / "django.po"

ZH = {
    "file": "文件",
    "Download": "下载",
    "file type": "文件类型",
    "size (bytes)": "大小（字节）",
    "uploaded at": "上传时间",
    "men must be under this age at application": "男性申请时须未满的年龄",
    "未满 N 周岁: a man of exactly this age is refused. Empty: no limit. Sex from the ID number's 17th digit (odd: male).": "未满 N 周岁：恰好满此年龄者不予接收。留空表示不限。性别按身份证号第 17 位判断（奇数为男）。",
    "women must be under this age at application": "女性申请时须未满的年龄",
    "{agency} takes these transfers in only from applicants under {limit} at application (its rule in force from {since}); the applicant is {age}. Ask it about other ways to enrol there, or keep the insurance where it is.": "{agency}仅接收申请时未满 {limit} 周岁者的此类转入（其自 {since} 起施行的规则）；申请人现年 {age} 周岁。请向其咨询在当地参保的其他途径，或保留原参保关系。",
    "A rule takes effect tomorrow at the earliest: cases already submitted keep the rules they were submitted under.": "规则最早次日生效：已提交的案件仍按提交时的规则办理。",
    "This rule is already in force and cases were judged by it: add a new rule from a later date instead of changing or deleting it.": "该规则已生效，已有案件按其办理：请新增一条以后日期生效的规则，不要修改或删除它。",
    "Men must be under this age at application (未满); null: no limit": "男性申请时须未满的年龄；null 表示不限",
    "The information form says %(amount)s yuan (balance plus declared interest).": "信息表载明 %(amount)s 元（余额加申报利息）。",
    "longest employee gap that can be paid for (months)": "职工医保可补缴的最长中断期（月）",
    "Empty: 3 (the national reading).": "留空为 3（国家规定）。",
    "employee waiting period after a longer gap (months)": "职工医保中断期较长时的待遇等待期（月）",
    "Empty: up to 6.": "留空为最长 6 个月。",
    "resident fixed waiting period (months)": "居民医保固定等待期（月）",
    "Empty: 3 (国办发〔2024〕38号).": "留空为 3（国办发〔2024〕38号）。",
    "null: the national reading (3)": "null：按国家规定（3）",
    "null: the national reading (up to 6)": "null：按国家规定（最长 6）",
    "PDF, JPEG or PNG, at most 10 MB": "PDF、JPEG 或 PNG 文件，最大 10 MB",
    "What the file is, e.g. 离职证明": "文件是什么，例如 离职证明",
    "Bytes, as stored (images re-encoded)": "存储的字节数（图片经重新编码）",
    "No such attachment.": "没有这个附件。",
    "label": "名称",
    "attachment": "附件",
    "attachments": "附件",
    "An attachment has at most {limit} MB.": "附件最大 {limit} MB。",
    "Attach a PDF, JPEG or PNG file.": "请上传 PDF、JPEG 或 PNG 文件。",
    "The image cannot be read: it is damaged or not a JPEG or PNG.": "图片无法读取：文件已损坏，或不是 JPEG、PNG 格式。",
    "Say what the file is (at most 100 characters), e.g. 离职证明.": "请说明文件是什么（最多 100 个字符），例如 离职证明。",
    "Attach a file.": "请上传文件。",
    "Attachment added": "已添加附件",
    "Transfers in from another province": "跨省转入",
    "Every transfer in": "所有转入",
    "in force from": "生效日期",
    "maximum age at application, men": "申请时年龄上限（男）",
    "Empty: no limit. Sex from the ID number's 17th digit (odd: male).": "留空表示不限。性别按身份证号第 17 位判断（奇数为男）。",
    "maximum age at application, women": "申请时年龄上限（女）",
    "Empty: no limit.": "留空表示不限。",
    "the age limit applies to": "年龄限制适用于",
    "takes employee insurance": "接收职工医保",
    "takes resident insurance": "接收居民医保",
    "credits transferred balances": "接收个人账户余额划入",
    "Otherwise the personal account balance is paid out to the person.": "否则个人账户余额支付给本人。",
    "basis": "依据",
    "The document that sets the rule.": "规定该规则的文件。",
    "agency rule": "经办机构规则",
    "agency rules": "经办机构规则",
    "changed by": "修改人",
    "changed at": "修改时间",
    "before": "修改前",
    "after": "修改后",
    "agency rule change": "规则修改记录",
    "agency rule changes": "规则修改记录",
    "{agency} does not take transfers into this insurance type (its rule in force from {since}). Ask it which insurance you can join there, or choose the other type at the target.": "{agency}不接收转入该险种（其自 {since} 起施行的规则）。请向其咨询可在当地参加哪种医保，或在转入地选择另一险种。",
    "{agency} takes these transfers in only up to the age of {limit} at application (its rule in force from {since}); the applicant is {age}. Ask it about other ways to enrol there, or keep the insurance where it is.": "{agency}仅接收申请时年龄不超过 {limit} 周岁的此类转入（其自 {since} 起施行的规则）；申请人现年 {age} 周岁。请向其咨询在当地参保的其他途径，或保留原参保关系。",
    "Maximum age at application, men; null: no limit": "申请时年龄上限（男）；null 表示不限",
    "false: a transferred balance is paid out to the person": "false：转移的个人账户余额支付给本人",
    "null: no local rule, the national rules alone": "null：无地方规则，仅适用国家规定",
    "Rules set to take effect later": "将来生效的规则",
    "Agency code (exact)": "经办机构代码（精确匹配）",
    "The application does not meet a rule of the transfer-in agency; see errors and rules.": "申请不符合转入地经办机构的规则；详见 errors 和 rules。",
    "The type joined at the target (a cross-type move); default: insurance_type": "在转入地参加的险种（跨险种转移）；默认与 insurance_type 相同",
    "Stated by the applicant; retirees are outside the transfer rules (400)": "由申请人声明；退休人员不适用转移接续规定（返回 400）",
    "approve_transfer_out; deemed contribution months (视同缴费月数), default 0": "approve_transfer_out：视同缴费月数，默认 0",
    "approve_transfer_out; interest included with the balance, yuan, default 0": "approve_transfer_out：随余额划转的利息（元），默认 0",
    "approve_transfer_out; the no-arrears statement, true (the default) or a 400": "approve_transfer_out：无欠费声明，须为 true（默认），否则返回 400",
    "move_balance: yuan received; pay_out_balance: yuan paid to the person; the balance plus declared interest, e.g. 1234.56": "move_balance：到账金额（元）；pay_out_balance：支付给本人的金额（元）；均为余额加申报利息，例如 1234.56",
    "Months actually paid": "实际缴费月数",
    "Paid plus deemed": "实际缴费月数加视同缴费月数",
    "Months insured at both ends at once; counted once at the target": "同时在两地参保的月数；在转入地只计算一次",
    "Cumulative months less the overlap: what counts at the target": "累计月数减去重复月数：转入地认可的月数",
    "Declared on the form; recorded apart from the balance": "信息表上申报的利息，与余额分开记录",
    "Balance plus interest: what must arrive, to the fen": "余额加利息：应到账金额，精确到分",
    "Recorded by the transfer-out agency at approval; null before": "转出地经办机构审核通过时填写；此前为 null",
    "What became of the balance; null until the case is done": "个人账户余额的去向；办结前为 null",
    "Deemed contribution months": "视同缴费月数",
    "视同缴费月数; leave empty for none.": "视同缴费月数；没有则留空。",
    "Interest included (yuan)": "随余额划转的利息（元）",
    "Declared on the information form; the transfer-in agency must receive the balance plus this.": "在信息表上申报；转入地应收到余额加此利息。",
    "No contributions in arrears": "无欠费",
    "With arrears, reject the application with the reason 'arrears' instead.": "如有欠费，请以“欠费”为由不予受理。",
    "Amount paid to the person (yuan)": "支付给本人的金额（元）",
    "Retirees are outside the transfer rules (医保办发〔2021〕43号 does not cover them): ask the agency where the pension is paid how your medical insurance continues.": "退休人员不适用医保关系转移接续规定（医保办发〔2021〕43号不含退休人员）：请向领取养老金所在地的经办机构咨询医保待遇如何延续。",
    "Say true or false.": "请填写 true 或 false。",
    "A transfer with contributions in arrears cannot be approved: reject it with the reason 'arrears' instead.": "有欠费的转移申请不能审核通过：请以“欠费”为由不予受理。",
    "The amount received ({amount}) differs from the balance plus declared interest on the information form ({expected}).": "到账金额（{amount}）与信息表上的余额加申报利息（{expected}）不一致。",
    "The amount paid out ({amount}) differs from the balance plus declared interest ({expected}).": "支付金额（{amount}）与余额加申报利息（{expected}）不一致。",
    "Pay out the balance to the person": "个人账户余额支付给本人",
    "Credited at the transfer-in agency": "已划入转入地个人账户",
    "Accounts merged within the province": "省内账户已合并",
    "Paid out to the person": "已支付给本人",
    "No balance to move": "无需划转余额",
    "insurance type at the target": "转入地险种",
    "deemed months": "视同缴费月数",
    "interest declared": "申报利息",
    "no arrears": "无欠费",
    "balance paid out": "支付给本人的余额",
    "materials requests": "补正要求次数",
    "Materials were already requested once (一次性告知). A further request must say what is wrong with the resubmitted materials themselves.": "材料已一次性告知过。再次要求补正时，须说明补交的材料本身存在什么问题。",
    "A repeat reason has at most 500 characters.": "再次补正的原因最多 500 个字符。",
    "approve_transfer_out; the actual stop date at source, replaces the intake one": "approve_transfer_out：转出地实际停保日期，取代申请时填写的日期",
    "request_materials, when materials were already requested once: what is wrong with the resubmitted materials": "request_materials（已一次性告知过时）：补交的材料存在什么问题",
    "How many times materials were requested": "要求补正材料的次数",
    "Whether materials were requested more than once (counted against the agency)": "是否多次要求补正（计入经办机构的统计）",
    "Why ask again": "再次补正原因",
    "Only when materials were already requested once: what is wrong with the resubmitted materials themselves. A repeat request never restarts the deadline.": "仅在已一次性告知过时填写：补交的材料本身存在什么问题。再次要求补正不会重新计算办理时限。",
    "Actual stop date at source": "转出地实际停保日期",
    "Leave empty to keep the date given at intake.": "留空则保留申请时填写的日期。",
    "Materials requested again in the period (一次性告知: every request after a case's first), counted against the transfer-out agency": "期间内再次要求补正的次数（一次性告知：每个案件第一次之后的每次要求），计入转出地经办机构",
    "A name cannot contain control or formatting characters (such as a right-to-left override).": "姓名不能包含控制字符或格式字符（例如从右向左覆盖符）。",
    "expected completion": "预计办结日期",
    "You were insured at both ends at once for {months} month(s): a duplicate enrolment. Those months count once; the personal contributions paid twice for them can be refunded by the agency whose cover ends.": "您有 {months} 个月同时在两地参保，属于重复参保。这些月份只计算一次；重复缴纳的个人缴费可向注销参保关系一方的经办机构申请退还。",
    "The gap is {gap} month(s), more than {limit}: the transfer-in agency's waiting period applies, up to {waiting} month(s) before benefits start. Ask it whether paying for the gap shortens it.": "中断 {gap} 个月，超过 {limit} 个月：适用转入地的待遇等待期，最长 {waiting} 个月后开始享受待遇。可向转入地经办机构咨询补缴能否缩短等待期。",
    "The gap is {gap} month(s), {years} full year(s) without cover: resident insurance has a waiting period of {waiting} month(s) before benefits start ({fixed} fixed, plus 1 for each further year without cover). Each extra year of contributions paid removes 1 of the added months.": "中断 {gap} 个月，其中整年未参保 {years} 年：居民医保待遇等待期为 {waiting} 个月（固定 {fixed} 个月，每多断保 1 年增加 1 个月）。每多缴纳 1 年可减少 1 个月的变动等待期。",
    "Months insured at both ends at once (a duplicate enrolment); they count once": "同时在两地参保的月数（重复参保），只计算一次",
    "What the rules found, e.g. a duplicate enrolment and its months": "规则核查发现的情况，例如重复参保及其月数",
    "The due date rests on a year whose holiday schedule is not published yet": "到期日所在年份的放假安排尚未公布",
    "The expected date counts days of a year whose holiday schedule is not published yet: it moves when the schedule is loaded": "预计日期计入了放假安排尚未公布年份的日期：安排公布后会重新计算",
    "(provisional)": "（暂定）",
    "No such case.": "没有这个案件。",
    "No such action.": "没有这个操作。",
    "The body nests objects or arrays more than {limit} deep.": "请求正文中的对象或数组嵌套超过 {limit} 层。",
    "Too many ID number lookups; try again later.": "按身份证号查询的次数过多，请稍后再试。",
    "This person already has an open transfer case for this insurance type.": "此人已有同一险种正在办理的转移案件。",
    "overdue since": "超期起始日",
    "Use a date from 1900-01-01 to 9998-12-31.": "请使用 1900-01-01 至 9998-12-31 之间的日期。",
    "Open deadlines moved: %(count)d; each case's events say how.": "已重新计算的未结时限：%(count)d 个；详见各案件的办理记录。",
    # accounts
    "Caseworkers, supervisors and platform accounts belong to an agency.": "经办人员、主管和平台账号隶属于一个经办机构。",
    "An applicant account carries a verified ID number: applicants register themselves, or an operator creates them with the create_account command. Create staff accounts here.": "参保人账号带有已核验的身份证号：由参保人自行注册，或由运维人员用 create_account 命令创建。此处创建工作人员账号。",
    "Personal info": "个人信息",
    "Role and agency": "角色和经办机构",
    "Permissions": "权限",
    "Important dates": "重要日期",
    "Applicant": "参保人",
    "Caseworker": "经办人员",
    "Supervisor": "主管",
    "Platform account": "平台账号",
    "Administrator": "管理员",
    "Choose a role: {choices}.": "请选择角色：{choices}。",
    "Enter a username.": "请输入用户名。",
    "A username has at most {limit} characters.": "用户名最多 {limit} 个字符。",
    "An account called {username} already exists.": "账号 {username} 已存在。",
    "A {role} account belongs to an agency: give its code.": "{role}账号隶属于经办机构：请填写机构代码。",
    "There is no agency with code {code}; load the agency list first (manage.py load_agencies).": "没有代码为 {code} 的经办机构；请先导入机构列表（manage.py load_agencies）。",
    "Only caseworker, supervisor and platform accounts belong to an agency.": "只有经办人员、主管和平台账号隶属于经办机构。",
    "Only supervisor and platform accounts can be province-wide.": "只有主管和平台账号可以覆盖全省。",
    "A province-wide account belongs to the provincial agency ({province_code}), not {code}.": "全省账号应隶属于省级经办机构（{province_code}），而不是 {code}。",
    "An applicant account carries the applicant's verified name.": "参保人账号须带有参保人已核验的姓名。",
    "A name has at most {limit} characters.": "姓名最多 {limit} 个字符。",
    "An applicant account carries the applicant's verified ID number.": "参保人账号须带有参保人已核验的身份证号。",
    "Only applicant accounts carry an ID number.": "只有参保人账号带有身份证号。",
    "An account for this ID number already exists.": "该身份证号已有账号。",
    "Enter a phone number of 7 to 15 digits.": "请输入 7 至 15 位数字的电话号码。",
    # admin
    "{action}: done. The case is now “{state}”.": "{action}：已完成。案件现在为“{state}”。",
    "The case is now assigned to {assignee}.": "案件已分派给 {assignee}。",
    "The case is no longer assigned to anyone.": "案件已取消分派。",
    "No case you can see has this ID number.": "您可查看的案件中没有该身份证号。",
    "overdue by {days} working day(s)": "已超期 {days} 个工作日",
    "Leave empty to keep the current value.": "留空则保持现值。",
    "Agency code (exact) or part of the name": "机构代码（精确）或名称的一部分",
    "my agency's side": "本机构所在一方",
    "Transfer-out (ours)": "转出（本机构）",
    "Transfer-in (ours)": "转入（本机构）",
    "overdue": "超期",
    "Yes": "是",
    "No": "否",
    "current stage due": "当前环节办理时限",
    "Overdue": "已超期",
    "Due today": "今日到期",
    "Within 3 working days": "3 个工作日内",
    "Within 7 days": "7 天内",
    "No deadline running": "无进行中的时限",
    "assignee": "经办人",
    "Me": "我",
    "Nobody": "无人",
    "ID number": "身份证号",
    "The ID number looked up": "查询的身份证号",
    "Note": "备注",
    "Contribution months": "缴费月数",
    "Personal account balance (yuan)": "个人账户余额（元）",
    "Leave empty for resident insurance (no personal account).": "城乡居民医保（无个人账户）请留空。",
    "Missing materials": "需补正材料",
    "One item per line, everything at once (一次性告知).": "每行一项，一次性告知。",
    "Amount received (yuan)": "到账金额（元）",
    "Reason": "原因",
    "Assign to": "分派给",
    "(nobody)": "（无人）",
    "stage clock": "环节计时",
    "stage clocks": "环节计时",
    "event": "事件",
    "timeline": "办理记录",
    "action": "操作",
    "from": "从",
    "to": "到",
    "reason": "原因",
    "Case reference, exact. To find a person's cases by ID number, use the form below.": "案件编号（精确）。按身份证号查找某人的案件请使用下面的表单。",
    "Case": "案件",
    "Current stage": "当前环节",
    "Cover": "参保连续性",
    "Information form": "参保人员基本医疗保险信息表",
    "Record": "记录",
    "working days left": "剩余工作日",
    "phone": "电话",
    "gap in cover": "中断缴费",
    # API
    "The request body is larger than {limit} bytes.": "请求体超过 {limit} 字节。",
    "This Idempotency-Key was already used with a different request; use a new key for a new request.": "该 Idempotency-Key 已用于另一个请求；新请求请使用新的键。",
    "A request with this Idempotency-Key is still being processed; retry shortly.": "使用该 Idempotency-Key 的请求仍在处理中，请稍后重试。",
    "Invalid request": "请求无效",
    "Not authenticated": "未登录",
    "Forbidden": "禁止访问",
    "Not found": "未找到",
    "Method not allowed": "不允许的请求方法",
    "Not acceptable": "无法提供所请求的格式",
    "Conflict": "冲突",
    "Precondition failed": "前提条件不成立",
    "Request too large": "请求过大",
    "Unsupported media type": "不支持的媒体类型",
    "Too many requests": "请求过多",
    "Internal server error": "服务器内部错误",
    "Service unavailable": "服务暂不可用",
    "Error": "错误",
    "The request has invalid fields.": "请求中有字段不符合要求。",
    "Too many requests; try again in {seconds} seconds.": "请求过多，请在 {seconds} 秒后重试。",
    "The service is temporarily unavailable; try again shortly.": "服务暂时不可用，请稍后重试。",
    "Something went wrong on our side.": "服务器出现错误。",
    "The request is malformed.": "请求格式错误。",
    "There is nothing at this address.": "该地址不存在。",
    "Use 1 to 200 printable ASCII characters, e.g. a UUID.": "请使用 1 至 200 个可打印 ASCII 字符，例如 UUID。",
    "The body is not valid JSON (UTF-8).": "请求体不是有效的 JSON（UTF-8）。",
    "18-character resident ID": "18 位居民身份证号码",
    "GB/T 2260 code": "GB/T 2260 行政区划代码",
    "Required when staff or a platform applies on someone's behalf; an applicant applies with their account's verified identity.": "工作人员或平台代为申请时必填；参保人本人申请时使用账号中已核验的身份。",
    "reject": "reject（不予受理）",
    "approve_transfer_out": "approve_transfer_out（转出审核通过）",
    "approve_transfer_out; yuan, e.g. 1234.56": "approve_transfer_out；单位元，例如 1234.56",
    "request_materials": "request_materials（一次性告知补正）",
    "move_balance; yuan received, e.g. 1234.56": "move_balance；到账金额（元），例如 1234.56",
    "Username; omitted: yourself (take the case); null: nobody": "用户名；省略：本人（认领案件）；null：取消分派",
    "The last 6 characters of the ID number": "身份证号码后 6 位",
    "my agency is transfer-out": "本机构为转出地",
    "my agency is transfer-in": "本机构为转入地",
    "Default due_at: the most urgent first": "默认 due_at：最紧急的在前",
    "Two-digit province code": "两位省级代码",
    "Default: 30 days ago": "默认：30 天前",
    "Default: today": "默认：今天",
    "date_from is after date_to.": "date_from 晚于 date_to。",
    "The range is at most 366 days.": "时间范围最多 366 天。",
    "Masked: 张*": "脱敏：张*",
    "Masked: 110105********002X": "脱敏：110105********002X",
    "Masked: 138****5678": "脱敏：138****5678",
    "Negative when late": "超期时为负数",
    "The deadline reaches into a year with no published holiday schedule": "时限跨入尚未公布节假日安排的年份",
    'Also the ETag: W/"<version>"': '亦即 ETag：W/"<version>"',
    "null once the case is closed": "案件办结后为 null",
    "Working days in force at this agency": "该机构现行的办理时限（工作日）",
    "Stable machine-readable code": "稳定的机器可读代码",
    "Field -> messages (validation errors)": "字段 -> 错误信息（校验错误）",
    "transition_not_allowed": "transition_not_allowed（当前状态不允许该操作）",
    "There is no case with this reference that you may see.": "没有您可查看的该编号案件。",
    "Too many failed sign-ins for this account from your address; try again later.": "该账号从您的地址登录失败次数过多，请稍后再试。",
    "There is no such user.": "没有该用户。",
    "No case matches this reference and ID number suffix.": "没有与该编号和身份证号后 6 位相符的案件。",
    "There is no agency with this code.": "没有该代码的经办机构。",
    "Only supervisors see SLA statistics.": "只有主管可以查看时限统计。",
    # continuity and status
    "The gap in cover is assessed once both the stop date at the transfer-out agency and the enrolment date at the transfer-in agency are known.": "转出地停保日期和转入地参保日期都确定后，才能评估中断缴费情况。",
    "Cover is continuous: there is no gap to pay for.": "参保连续：没有需要补缴的中断期。",
    "The gap is {gap} month(s): you can pay contributions for it at the transfer-in agency. Benefits start in the month you pay and the gap months are covered retroactively.": "中断 {gap} 个月：可在转入地补缴。自补缴当月起享受待遇，中断期间的待遇可追溯。",
    "The gap is {gap} month(s): the transfer-in agency may apply a waiting period of up to {waiting} month(s) before benefits start. Ask it whether paying for the gap shortens it.": "中断 {gap} 个月：转入地可设置最长 {waiting} 个月的待遇等待期。请向转入地咨询补缴能否缩短等待期。",
    "The transfer-out agency is reviewing the application.": "转出地经办机构正在审核申请。",
    "Send the missing materials the transfer-out agency asked for.": "请按转出地经办机构的一次性告知补正材料。",
    "The transfer-in agency is receiving the transfer.": "转入地经办机构正在办理转入。",
    "The transfer-in agency is crediting the personal account balance.": "转入地经办机构正在划入个人账户余额。",
    "Nothing: the transfer is complete.": "无需操作：转移接续已办结。",
    "Nothing: the application was not accepted. Contact the agency.": "无需操作：申请未被受理，请联系经办机构。",
    "Nothing: the application was withdrawn.": "无需操作：申请已撤回。",
    # errors
    "The case is {state}; {action} is not possible now.": "案件当前为{state}；现在不能执行 {action}。",
    "You may not {action} this case.": "您无权对该案件执行 {action}。",
    "The case was changed by someone else; reload it and try again.": "案件已被他人修改，请刷新后重试。",
    "There is no action called {action}.": "没有名为 {action} 的操作。",
    "This person already has an open transfer case for this insurance type ({reference}).": "此人已有同一险种正在办理的转移案件（{reference}）。",
    "Your account may not submit transfer applications.": "您的账号不能提交转移申请。",
    # models
    "An agency code is 6 digits (GB/T 2260).": "机构代码为 6 位数字（GB/T 2260）。",
    "Province": "省级",
    "Prefecture": "地市级",
    "County": "县级",
    "agency": "经办机构",
    "agencies": "经办机构",
    "The applicant's own account, when they applied themselves": "参保人本人申请时的账号",
    "transfer case": "转移接续案件",
    "Role at the time, or 'system'": "操作时的角色，或 'system'",
    "case event": "案件事件",
    "idempotency record": "幂等记录",
    # ID numbers
    "An ID number has 18 characters.": "身份证号码为 18 位。",
    "An ID number is 17 digits followed by a digit or X.": "身份证号码为 17 位数字加 1 位数字或 X。",
    "The birth date in the ID number is not a real date.": "身份证号码中的出生日期无效。",
    "The check character of the ID number is wrong.": "身份证号码校验位错误。",
    "The address code of the ID number is not valid.": "身份证号码的地址码无效。",
    # services
    "Enter an amount in yuan, e.g. 1234.56.": "请输入以元为单位的金额，例如 1234.56。",
    "An amount cannot be negative.": "金额不能为负数。",
    "An amount has at most two decimals (fen).": "金额最多两位小数（分）。",
    "The amount is too large.": "金额过大。",
    "Enter a date as YYYY-MM-DD.": "请按 YYYY-MM-DD 格式输入日期。",
    "You can only apply for yourself.": "您只能为本人申请。",
    "Choose employee or resident.": "请选择 employee（职工）或 resident（城乡居民）。",
    "Choose one of: {choices}.": "请选择其中之一：{choices}。",
    "There is no agency with code {code}.": "没有代码为 {code} 的经办机构。",
    "Agency {code} does not take transfers.": "经办机构 {code} 不办理转移接续。",
    "The transfer-in agency must differ from the transfer-out agency.": "转入地经办机构不能与转出地相同。",
    "Enter the applicant's name (at most 50 characters).": "请输入参保人姓名（最多 50 个字符）。",
    "The date cannot be in the future.": "日期不能晚于今天。",
    "The date is before basic medical insurance existed (1998-12).": "日期早于基本医疗保险制度建立（1998 年 12 月）。",
    "A transfer needs the date cover stopped at the transfer-out agency.": "转移接续需要填写转出地停保日期。",
    "A note has at most 2000 characters.": "备注最多 2000 个字符。",
    "You can only submit on behalf of an applicant at your own agency's window.": "您只能在本机构窗口代参保人申请。",
    "Give the applicant's name and ID number.": "请填写参保人姓名和身份证号码。",
    "Enter the contribution months as a whole number.": "缴费月数请输入整数。",
    "Contribution months are between 0 and 1200.": "缴费月数应在 0 到 1200 之间。",
    "Enter the personal account balance.": "请输入个人账户余额。",
    "Resident insurance has no personal account: the balance is 0.": "城乡居民医保没有个人账户：余额为 0。",
    'List what is missing, all at once (一次性告知), e.g. ["离职证明"].': '请一次性列出所有缺少的材料，例如 ["离职证明"]。',
    "Enter the amount received.": "请输入到账金额。",
    "The amount received ({amount}) differs from the balance on the information form ({expected}).": "到账金额（{amount}）与信息表上的余额（{expected}）不一致。",
    "Choose a reason: {choices}.": "请选择原因：{choices}。",
    "Explain the reason in the note when it is 'other'.": "原因为“其他”时请在备注中说明。",
    "Assign the case to a caseworker of the agency whose move it is.": "请将案件分派给当前负责办理的经办机构的经办人员。",
    # states (domain.md)
    "Applied (transfer-out review)": "已申请（转出地审核中）",
    "Materials requested": "待补正",
    "Transferred out (transfer-in review)": "转出地已办结（转入地接收中）",
    "Transferred in (personal account moving)": "转入地已接收（个人账户划转中）",
    "Completed (personal account moved)": "已办结（个人账户已划转）",
    "Rejected": "不予受理 / 审核不通过",
    "Withdrawn": "已撤回",
    "Submit": "提交申请",
    "Approve transfer out": "转出审核通过",
    "Request materials": "一次性告知补正",
    "Resubmit materials": "补正材料",
    "Confirm transfer in": "确认转入",
    "Credit the personal account": "划入个人账户",
    "Completed without a balance step": "办结（无需划转余额）",
    "Reject": "不予受理",
    "Withdraw": "撤回申请",
    "Deadline recomputed": "办理时限重新计算",
    "Assign": "分派",
    "Not stopped at the transfer-out agency": "转出地未中止参保",
    "Not enrolled at the transfer-in agency": "转入地未正常参保",
    "Contributions in arrears": "存在欠费",
    "Enrolled twice": "重复参保",
    "Retired (outside the transfer rules)": "已退休（不适用转移接续办法）",
    "Ineligible under a local rule": "不符合当地规定",
    "Other": "其他",
    "Employee basic medical insurance": "职工基本医疗保险",
    "Urban and rural resident medical insurance": "城乡居民基本医疗保险",
    "Within a province": "省内",
    "Between provinces": "跨省",
    "National platform app": "国家医保服务平台 App",
    "Provincial app": "省级医保 App",
    "WeChat": "微信",
    "Alipay": "支付宝",
    "Service window": "经办窗口",
    "Employer": "用人单位",
    # templates
    "Home": "首页",
    "The information form says %(amount)s yuan.": "信息表上的金额为 %(amount)s 元。",
    "Cancel": "取消",
    "State": "状态",
    "version %(version)s": "版本 %(version)s",
    "Insurance type": "险种",
    "From / to": "转出 / 转入",
    "Take this case": "认领此案件",
    "Assign to…": "分派给…",
    "Find by ID number": "按身份证号查找",
    "Find": "查找",
    # notifications
    "Email": "电子邮件",
    "SMS": "短信",
    "Webhook": "Webhook",
    "In-app": "站内消息",
    "Pending": "待发送",
    "Sent": "已发送",
    "Failed": "发送失败",
    "Email, phone or URL": "电子邮件、电话或 URL",
    "What it is about, e.g. a case reference": "所涉事项，例如案件编号",
    "e.g. a case reference": "例如案件编号",
    "There is no such notification of yours.": "没有属于您的该通知。",
    "notification": "通知",
    # workflow
    "Working day": "工作日",
    "Weekend": "周末",
    "Statutory holiday": "法定节假日",
    "Make-up working day": "调休上班日",
    "chinesecalendar package": "chinesecalendar 数据包",
    "Imported file": "导入文件",
    "Edited in the admin": "在管理后台修改",
    "calendar year": "日历年度",
    "Holiday name, if any": "节假日名称（如有）",
    "calendar day": "日历日",
    "The action that ended it": "结束该环节的操作",
    "Due-soon warning": "即将到期提醒",
    "Escalation": "超期升级",
    "Materials reminder": "补正材料提醒",
    "Transfer-out review": "转出地审核",
    "Waiting for materials": "等待补正材料",
    "Transfer-in review": "转入地接收",
    "Personal account transfer": "个人账户划转",
    "Transfer-out agency": "转出地经办机构",
    "Transfer-in agency": "转入地经办机构",
    "Transfer the balance": "划转余额",
    "Merge accounts (no money moves)": "合并账户（不划转资金）",
    "Months already at the target": "转入地已有缴费月数",
    "months already at the target": "转入地已有缴费月数",
    "The months the person already had here in the same insurance type; leave empty for none.": "参保人在本地同一险种已有的缴费月数；没有则留空。",
    "A case holds at most {limit} attachments.": "一个案件最多上传 {limit} 个附件。",
    "confirm_transfer_in; the months the person already had at the target in the same insurance type, default 0": "确认转入时填写：参保人在转入地同一险种已有的缴费月数，默认 0",
    "Once the transfer-in agency confirmed: the months the person already had there plus the months carried in": "转入地确认后：转入地已有月数加转入月数",
    "Enter the last 6 characters of the ID number: digits, the last may be X.": "请输入身份证号码后 6 位：数字，最后一位可以是 X。",
    "Applicant pages": "办事人页面",
    "Case reference": "业务编号",
    "On the acknowledgement you received, e.g. YB2026112300042.": "见受理回执，例如 YB2026112300042。",
    "Last 6 characters of the ID number": "身份证号码后 6 位",
    "What the file is": "材料名称",
    "For example 离职证明.": "例如：离职证明。",
    "File (PDF, JPEG or PNG)": "文件（PDF、JPEG 或 PNG）",
    "Apply": "申请",
    "Transfer out": "转出",
    "Transfer in": "转入",
    "Balance": "划转",
    "done": "已完成",
    "in progress": "办理中",
    "to come": "未开始",
    "stopped": "已终止",
    "Page not found": "页面不存在",
    "There is nothing at this address. It may have been typed wrongly, or the page may have moved.": "这个地址没有内容，可能输入有误，或页面已经移动。",
    "Back to the start": "返回首页",
    "Completed on %(day)s.": "已于%(day)s办结。",
    "Expected to be complete by %(day)s.": "预计%(day)s前办结。",
    "Provisional: the official holiday schedule of a year it counts is not published yet, so this date may move.": "暂定：所涉年份的法定节假日安排尚未公布，此日期可能调整。",
    "Progress": "办理进度",
    "due %(day)s": "%(day)s前办理",
    " (provisional)": "（暂定）",
    "Medical insurance transfer": "医保关系转移接续",
    "Skip to content": "跳到正文",
    "Main": "主导航",
    "Check progress": "查询办理进度",
    "My applications": "我的申请",
    "Sign out": "退出登录",
    "Sign in": "登录",
    "Normal text": "标准字号",
    "Larger text": "大字模式",
    "Transfers of basic medical insurance between pooling areas, under 医保办发〔2021〕43号.": "基本医疗保险关系跨统筹地区转移接续，依据医保办发〔2021〕43号。",
    "Now: %(stage)s.": "当前环节：%(stage)s。",
    "Working days left in this step: %(days)s.": "本环节剩余工作日：%(days)s 天。",
    "Past its deadline": "已超过办理时限",
    "Materials to send": "需要补正的材料",
    "The transfer-out agency needs the following, all listed at once. Add each file, then send them.": "转出地经办机构一次性告知需补正以下材料。请逐一上传后提交。",
    "PDF, JPEG or PNG, at most %(mb)s MB each. Photos are cleaned of their hidden data (place, camera).": "支持 PDF、JPEG 或 PNG，每个文件不超过 %(mb)s MB。照片中的隐藏信息（地点、相机）会被清除。",
    "Add the file": "上传文件",
    "I have added everything: send the materials": "材料已齐全，提交补正",
    "Your cover": "参保情况",
    "Waiting period at the new place, in months: %(months)s. Claims for care in this period may not be paid.": "转入地等待期：%(months)s 个月。等待期内发生的医疗费用可能不予报销。",
    "Contribution months carried": "转入的缴费月数",
    "Total months at the new place": "转入地累计缴费月数",
    "Months insured at both places (counted once)": "两地重复参保月数（只计一次）",
    "Personal account balance to move": "待划转的个人账户余额",
    "%(amount)s was credited to your personal account at the new place.": "%(amount)s 已划入您在转入地的个人账户。",
    "%(amount)s was paid out to you (the new place keeps no personal account for you).": "%(amount)s 已支付给您本人（转入地不为您设立个人账户）。",
    "Your two personal accounts were merged into one.": "您的两个个人账户已合并。",
    "No balance had to move.": "无需划转余额。",
    "Files": "已上传材料",
    "No files yet.": "还没有上传材料。",
    "What has happened": "办理记录",
    "No longer moving? You can withdraw the application while it is open.": "不再转移？办结之前可以撤回申请。",
    "Withdraw the application": "撤回申请",
    "Moving to another city? Follow the transfer of your basic medical insurance, your contribution months and your personal account balance here.": "换了城市工作生活？在这里查看基本医疗保险关系、缴费月数和个人账户余额的转移进度。",
    "Check": "查询",
    "Your applications": "我的申请",
    "Sign in to see all your applications, send missing materials and download documents.": "登录后可查看全部申请、补正材料、下载凭证。",
    "Sign-in paused": "登录已暂停",
    "applied %(day)s": "%(day)s申请",
    "Next date: %(day)s": "下一个期限：%(day)s",
    "You have no applications yet.": "您还没有申请。",
    "What happens next": "下一步",
    "Check another case": "查询其他业务",
    "Sign in for more": "登录查看详情",
    "Too many tries": "尝试次数过多",
    "Please try again in %(seconds)s s.": "请 %(seconds)s 秒后再试。",
    "Withdraw case %(reference)s? The agencies stop working on it, and your insurance stays where it is now. This cannot be undone: to move later, apply again.": "确定撤回业务 %(reference)s 吗？经办机构将停止办理，您的医保关系保持不变。撤回后不能恢复，以后需要转移请重新申请。",
    "Yes, withdraw it": "确定撤回",
    "No, keep it": "不撤回",
    "You": "您本人",
    "The system": "系统",
    "Staff": "经办人员",
    "Missing: {items}": "需补正：{items}",
    "Why again: {reason}": "再次补正的原因：{reason}",
    "Reason: {reason}": "原因：{reason}",
    "File: {label}": "材料：{label}",
    "Amount: {amount}": "金额：{amount}",
    "Note: {note}": "说明：{note}",
    "No case matches this reference and ID number suffix. Check both and try again.": "没有找到与业务编号和身份证号码后 6 位相符的业务，请核对后重试。",
    "The case has changed since you opened this page. Here is where it stands now.": "打开页面后业务已有变化，以下是最新进度。",
    "This is not possible at the case's present stage.": "业务当前所处环节不能进行此操作。",
    "Your application was withdrawn.": "您的申请已撤回。",
    "Your materials were sent: the transfer-out agency is reviewing the application again.": "补正材料已提交，转出地经办机构将重新审核。",
    "The file “{label}” was added.": "已上传材料“{label}”。",
    "These pages are for applicants. Agency staff work in the staff pages.": "这些页面供办事人使用，经办人员请使用经办页面。",
    "The signed PDF (issued on first fetch)": "已签名的 PDF（首次获取时出具）",
    "The applicant's name, masked": "申请人姓名（已脱敏）",
    "The case has no such document (yet).": "该业务（暂时）没有这份文件。",
    "No document has this number.": "没有这个编号的文件。",
    "Documents": "文件",
    "Proof of insurance": "参保凭证",
    "Contact letter": "基本医疗保险关系转移接续联系函",
    "document number": "文件编号",
    "kind": "文件类型",
    "issuer": "出具机构",
    "issued at": "出具时间",
    "superseded at": "失效时间",
    "issued document": "已出具文件",
    "issued documents": "已出具文件",
    "Signed by the issuing agency; anyone can check one with its QR code.": "文件附出具机构的数字签名，任何人都可以扫描二维码核验。",
    "Check a document": "文件核验",
    "Valid": "有效",
    "This document was issued by the agency below and its facts are still current.": "本文件由以下机构出具，所载信息仍为最新。",
    "Superseded": "已失效",
    "The case's data this document carried has changed since it was issued: ask for the current one.": "本文件出具后，所载业务信息已有变化，请索取最新文件。",
    "Document": "文件",
    "Number": "编号",
    "Issued by": "出具机构",
    "Issued on": "出具时间",
    "SHA-256 of the file as issued (compare it with the file you hold):": "出具时文件的 SHA-256 摘要（请与您持有的文件核对）：",
    "No document has the number %(number)s. Check the number, or contact the issuing agency.": "没有编号为 %(number)s 的文件。请核对编号，或联系出具机构。",
    "Document number or case reference (exact)": "文件编号或业务编号（精确匹配）",
}


def _unquote(lines: list[str]) -> str:
    return "".join(ast.literal_eval(line.strip()) for line in lines)


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def parse(text: str) -> list[dict]:
    """Entries as dicts with comment lines, msgid, msgstr (plural forms are not used here)."""
    entries = []
    for block in text.strip().split("\n\n"):
        comments, msgid, msgstr, cur = [], [], [], None
        for line in block.splitlines():
            if line.startswith("#"):
                comments.append(line)
            elif line.startswith("msgid "):
                cur = msgid
                cur.append(line[6:])
            elif line.startswith("msgstr "):
                cur = msgstr
                cur.append(line[7:])
            elif line.startswith('"') and cur is not None:
                cur.append(line)
        entries.append({"comments": comments, "msgid": _unquote(msgid), "msgstr": _unquote(msgstr)})
    return entries


def write_po(entries: list[dict]) -> None:
    out = []
    for e in entries:
        lines = [*e["comments"], "msgid " + _quote(e["msgid"]), "msgstr " + _quote(e["msgstr"])]
        out.append("\n".join(lines))
    PO.write_text("\n\n".join(out) + "\n", encoding="utf-8")


def write_mo(entries: list[dict]) -> None:
    """GNU .mo, as msgfmt writes it (no hash table)."""
    pairs = sorted((e["msgid"], e["msgstr"]) for e in entries if e["msgstr"])
    ids = [k.encode() for k, _ in pairs]
    strs = [v.encode() for _, v in pairs]
    n = len(pairs)
    key_start = 7 * 4 + 16 * n
    offsets, data_ids, data_strs = [], b"", b""
    for k in ids:
        offsets.append((len(k), key_start + len(data_ids)))
        data_ids += k + b"\0"
    value_start = key_start + len(data_ids)
    value_offsets = []
    for v in strs:
        value_offsets.append((len(v), value_start + len(data_strs)))
        data_strs += v + b"\0"
    header = struct.pack("<7I", 0x950412DE, 0, n, 7 * 4, 7 * 4 + 8 * n, 0, 0)
    table = b"".join(struct.pack("<2I", *o) for o in offsets)
    table += b"".join(struct.pack("<2I", *o) for o in value_offsets)
    PO.with_suffix(".mo").write_bytes(header + table + data_ids + data_strs)


def _unfuzzy(comment: str) -> str:
    if not comment.startswith("#,"):
        return comment
    flags = [f.strip() for f in comment[2:].split(",") if f.strip() != "fuzzy"]
    return "#, " + ", ".join(flags)


def main() -> int:
    entries = parse(PO.read_text(encoding="utf-8"))
    missing = []
    for e in entries:
        if not e["msgid"]:
            e["msgstr"] = (
                e["msgstr"]
                .replace("CHARSET", "UTF-8")
                .replace("Language: \n", "Language: zh_Hans\n")
                .replace("PACKAGE VERSION", "yibao-transfer")
            )
            e["comments"] = [c for c in e["comments"] if c != "#, fuzzy"]
            continue
        fuzzy = any(c.startswith("#,") and "fuzzy" in c for c in e["comments"])
        if fuzzy:
            # msgmerge's guess from a similar msgid: never trust it.
            e["msgstr"] = ""
        # The table wins over what the .po holds; entries it lacks keep their translation.
        e["msgstr"] = ZH.get(e["msgid"]) or e["msgstr"]
        if not e["msgstr"]:
            missing.append(e["msgid"])
        e["comments"] = [
            _unfuzzy(c) for c in e["comments"] if not c.startswith("#|") and c != "#, fuzzy"
        ]
    write_po(entries)
    write_mo(entries)
    for m in missing:
        print("untranslated:", m, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
